-- One condition of a wait is met (its sleep ended, a matching event arrived): record it
-- and, when every condition group of an action is met, resolve the wait. The order
-- SKIP > CANCEL > CREATE > QUEUE decides between actions met by the same step; a sleep
-- and an event racing are two calls of this script, so the first one wins.
-- KEYS[1] run hash  KEYS[2] timers  KEYS[3] leases
--      KEYS[4] the event waiter hash the caller found the condition in (or the timers key)
-- ARGV: run_id task wid cid data_json now lease_until cx_at waiter_member('' if none)
--       fired_timer('' if none: the sleep timer member that met the condition; removed
--       from KEYS[2] whatever the outcome)
-- Resolution:
--   durable (CREATE): SUSPENDED -> QUEUED; the result goes to checkpoint cp:<task>:<node>
--   gate QUEUE: WAITING -> QUEUED;  SKIP: WAITING -> RUNNING under a new claim and lease
--     (the caller records SKIPPED through complete.lua);  CANCEL: stays WAITING (the
--     caller records CANCELLED through fail.lua). A gate decision is kept in cd:<task>
--     and a 'wdx' timer at cx_at carries it out if the caller does not.
-- Result JSON: {"<ACTION>": {"<readable_data_key>": [data, ...]}} (met conditions only).
-- Returns {0} stale, {1} recorded, {2, action, attempt, claim, workflow, priority,
--         parent_task_run_id, result_json, spec_json}. A resolution removes every sleep
--         timer of the spec; the caller drops its other event waiters (their hashes are
--         only known from the spec).
local run, timers, leases, waiters = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_id, task, wid, cid, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[6]
local member = ARGV[9]
if ARGV[10] and ARGV[10] ~= '' then redis.call('ZREM', timers, ARGV[10]) end
local function stale()
  if member ~= '' then redis.call('HDEL', waiters, member) end
  return {0}
end
local raw = redis.call('HGET', run, 'cw:' .. task)
if not raw then return stale() end
local spec = cjson.decode(raw)
if tostring(spec.wid) ~= wid then return stale() end
local st = redis.call('HGET', run, 's:' .. task)
local waiting = 'WAITING'
if spec.mode == 'durable' then waiting = 'SUSPENDED' end
if st ~= waiting then return stale() end
local prefix = 'cv:' .. task .. ':'
if redis.call('HSETNX', run, prefix .. cid, ARGV[5]) == 0 then return {1} end

local met, groups = {}, {}
for _, c in ipairs(spec.conds) do
  local ok = redis.call('HEXISTS', run, prefix .. c.id) == 1
  met[c.id] = ok
  groups[c.action] = groups[c.action] or {}
  groups[c.action][c.group] = groups[c.action][c.group] or ok
end
local decided = nil
for _, action in ipairs({'SKIP', 'CANCEL', 'CREATE', 'QUEUE'}) do
  local g = groups[action]
  if g then
    local all = true
    for _, v in pairs(g) do
      if not v then all = false end
    end
    if all then
      decided = action
      break
    end
  end
end
if not decided then return {1} end

-- Build the result from the stored JSON text (no decode/encode: numbers stay exact).
local by_key, order = {}, {}
for _, c in ipairs(spec.conds) do
  if c.action == decided and met[c.id] then
    if not by_key[c.key] then
      by_key[c.key] = {}
      order[#order + 1] = c.key
    end
    table.insert(by_key[c.key], redis.call('HGET', run, prefix .. c.id))
  end
end
local parts = {}
for _, key in ipairs(order) do
  parts[#parts + 1] = cjson.encode(key) .. ':[' .. table.concat(by_key[key], ',') .. ']'
end
local result = '{' .. cjson.encode(decided) .. ':{' .. table.concat(parts, ',') .. '}}'
for _, c in ipairs(spec.conds) do
  redis.call('HDEL', run, prefix .. c.id)
end
redis.call('HDEL', run, 'cw:' .. task)
if member ~= '' then redis.call('HDEL', waiters, member) end
for _, c in ipairs(spec.conds) do
  if c.kind == 'sleep' then redis.call('ZREM', timers, c.m) end
end

local attempt = redis.call('HGET', run, 'a:' .. task)
local info = redis.call('HMGET', run, 'wf', 'pr', 'ptr')
local function requeue()
  local deadline = tonumber(now) + tonumber(spec.sched)
  redis.call('HSET', run, 's:' .. task, 'QUEUED', 'q:' .. task, now, 'x:' .. task, deadline)
  local watch = tonumber(now) + 30
  if watch > deadline then watch = deadline end
  redis.call('ZADD', timers, watch, watchdog_member(attempt, run_id, task))
end
local claim = redis.call('HGET', run, 'c:' .. task) or '0'
if spec.mode == 'durable' then
  redis.call('HSET', run, 'cp:' .. task .. ':' .. spec.node,
    '{"sig":' .. cjson.encode(spec.sig) .. ',"r":' .. result .. '}')
  requeue()
else
  redis.call('HSET', run, 'cd:' .. task, decided)
  if decided == 'QUEUE' then
    requeue()
  elseif decided == 'SKIP' then
    claim = redis.call('HINCRBY', run, 'c:' .. task, 1)
    redis.call('HSET', run, 's:' .. task, 'RUNNING', 'b:' .. task, now)
    redis.call('ZADD', leases, ARGV[7], claim .. '|' .. run_id .. '|' .. task)
  end
  redis.call('ZADD', timers, ARGV[8], 'wdx|' .. run_id .. '|' .. task)
end
return {2, decided, attempt, tostring(claim), info[1] or '', info[2] or '', info[3] or '', result,
  raw}
