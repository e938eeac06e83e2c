-- Replay a finished run: its FAILED and CANCELLED task runs are queued again with their
-- attempt (retry_count) incremented, their descendants are reset to run again once
-- those complete, the on-failure task is reset, and the run is QUEUED again (its
-- expiry removed). A COMPLETED run replays from its root tasks, and so does any run when
-- whole = 1 (replayed by its run id: as in Hatchet, every step of the DAG runs again).
-- KEYS[1] run hash  KEYS[2] timers  KEYS[3] status index
-- ARGV: run_id now redispatch_seconds defer(0|1) ntasks whole(0|1)
--       then per task of the workflow: name schedule_timeout nparents parent1 parent2 ...
-- defer = 1: the caller cannot apply the task gates, so each re-queued task also gets a
-- due dispatch timer that a worker's pump dispatches.
-- Returns {0, status} when not replayable (gone: '', or not finished),
--         {1, task1, task_run_id1, attempt1, ...} for the task runs queued again.
local run, timers = KEYS[1], KEYS[2]
local run_id, now = ARGV[1], tonumber(ARGV[2])
local st = redis.call('HGET', run, 'st')
if not st then return {0, ''} end
if st ~= 'COMPLETED' and st ~= 'FAILED' and st ~= 'CANCELLED' then return {0, st} end
local of = redis.call('HGET', run, 'of') or ''

local names, parents, children, timeout = {}, {}, {}, {}
local a = 7
local whole = ARGV[6] == '1'
for _ = 1, tonumber(ARGV[5]) do
  local name, n = ARGV[a], tonumber(ARGV[a + 2])
  names[#names + 1] = name
  timeout[name] = tonumber(ARGV[a + 1])
  parents[name] = {}
  children[name] = children[name] or {}
  for j = 1, n do
    local p = ARGV[a + 2 + j]
    parents[name][j] = p
    children[p] = children[p] or {}
    children[p][#children[p] + 1] = name
  end
  a = a + 3 + n
end

local rerun, order = {}, {}
if not whole then
  for _, name in ipairs(names) do
    local s = redis.call('HGET', run, 's:' .. name)
    if name ~= of and (s == 'FAILED' or s == 'CANCELLED') then
      rerun[name] = true
      order[#order + 1] = name
    end
  end
end
if #order == 0 and (whole or st == 'COMPLETED') then
  for _, name in ipairs(names) do
    if name ~= of and #parents[name] == 0 then
      rerun[name] = true
      order[#order + 1] = name
    end
  end
end
if #order == 0 then return {0, st} end

-- Everything downstream of a re-run task starts afresh.
local reset, stack = {}, {}
for _, name in ipairs(order) do stack[#stack + 1] = name end
while #stack > 0 do
  local name = table.remove(stack)
  for _, child in ipairs(children[name] or {}) do
    if not reset[child] and not rerun[child] then
      reset[child] = true
      stack[#stack + 1] = child
    end
  end
end
if of ~= '' then reset[of] = true end
for name in pairs(reset) do
  local ran = redis.call('HGET', run, 'a:' .. name)
  if ran and redis.call('HGET', run, 'b:' .. name) then
    redis.call('HSET', run, 'r:' .. name, tonumber(ran) + 1)
  end
  redis.call('HDEL', run, 's:' .. name, 'a:' .. name, 'q:' .. name, 'b:' .. name,
    'f:' .. name, 'w:' .. name, 'o:' .. name, 'e:' .. name, 'n:' .. name, 'x:' .. name,
    'cd:' .. name, 'cw:' .. name)
end

local out = {1}
for _, name in ipairs(order) do
  local attempt = redis.call('HINCRBY', run, 'a:' .. name, 1)
  local deadline = now + timeout[name]
  redis.call('HSET', run, 's:' .. name, 'QUEUED', 'q:' .. name, now, 'x:' .. name, deadline)
  -- conditions are decided again (cd/cw: the conditions gate's decision and wait)
  redis.call('HDEL', run, 'e:' .. name, 'o:' .. name, 'f:' .. name, 'b:' .. name, 'w:' .. name,
    'cd:' .. name, 'cw:' .. name)
  redis.call('ZADD', timers, math.min(now + tonumber(ARGV[3]), deadline),
    watchdog_member(attempt, run_id, name))
  if ARGV[4] == '1' then
    redis.call('ZADD', timers, now, dispatch_member(attempt, run_id, name))
  end
  out[#out + 1] = name
  out[#out + 1] = redis.call('HGET', run, 'i:' .. name) or ''
  out[#out + 1] = attempt
end

-- Fan-in counters of the reset tasks count the parents that stay done.
for name in pairs(reset) do
  local done_parents = 0
  for _, p in ipairs(parents[name] or {}) do
    local s = redis.call('HGET', run, 's:' .. p)
    if s == 'COMPLETED' or s == 'SKIPPED' then done_parents = done_parents + 1 end
  end
  if done_parents > 0 then redis.call('HSET', run, 'n:' .. name, done_parents) end
end

local d = 0
for _, name in ipairs(names) do
  if FINAL_TASK[redis.call('HGET', run, 's:' .. name) or ''] then d = d + 1 end
end
redis.call('HSET', run, 'st', 'QUEUED', 'd', d, 'nf', 0, 'nc', 0)
redis.call('HDEL', run, 'ft')
redis.call('PERSIST', run)
index_status({status = KEYS[3]}, run, run_id, 'QUEUED')
return out
