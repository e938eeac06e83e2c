-- A ready task run arrives at a concurrency gate (one per declaration: a workflow's roots,
-- or one task): admit it, queue it, or apply the strategy of the keys that are full.
-- Older waiters of its keys go first (FIFO within a key); a holder or waiter arriving
-- again (a retry, the second root of a run) keeps its place.
-- KEYS[1] gate hash  KEYS[2] gate queue  KEYS[3] gate held  KEYS[4] run hash  KEYS[5] timers
-- ARGV: holder run_id task attempt park_status watch_at sweep_member sweep_at scan_limit n
--       then per expression: key max_runs strategy
-- Returns {verdict, admitted, victims}. verdict: 'admit' (publish it), 'wait' (parked in
-- the queue), 'cancel' (parked; the caller cancels it), 'drop' (not QUEUED at this
-- attempt: stale). admitted: older waiters admitted now (still parked: wake them).
-- victims: holders or waiters a CANCEL_* strategy evicted (the caller cancels them).
local state, queue, held, run, timers = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local holder, run_id, task, attempt, parked = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local limit, n = tonumber(ARGV[9]), tonumber(ARGV[10])
local f = redis.call('HMGET', run, 's:' .. task, 'a:' .. task)
if (f[1] ~= 'QUEUED' and f[1] ~= parked) or f[2] ~= attempt then
  return {'drop', {}, {}}
end
-- LT: arms the sweep, or brings a claimed one (scored a claim lease ahead) forward, so
-- the pump handling it sees it changed and does not drop it as idle
redis.call('ZADD', timers, 'LT', ARGV[8], ARGV[7])
if redis.call('HEXISTS', state, 'h:' .. holder) == 1 then
  wake_task(run, timers, run_id, task, parked, ARGV[6])
  return {'admit', {}, {}}
end
if redis.call('HEXISTS', state, 'w:' .. holder) == 1 then
  park_task(run, task, attempt, parked)
  return {'wait', {}, {}}
end
local keys, strategies = {}, {}
for i = 1, n do
  local key = ARGV[8 + 3 * i]
  keys[i], strategies[i] = key, ARGV[10 + 3 * i]
  redis.call('HSET', state, 'm:' .. i .. ':' .. key, ARGV[9 + 3 * i])
end
local admitted, victims = {}, {}
for i = 1, n do
  conc_scan(state, queue, held, i, keys[i], limit, admitted)
end
local rec = {k = keys, s = redis.call('HINCRBY', state, 'seq', 1)}
local full = {}
for i = 1, n do
  if conc_count(state, i, keys[i]) >= conc_max(state, i, keys[i]) then full[#full + 1] = i end
end
if #full == 0 then
  conc_hold(state, held, holder, rec)
  return {'admit', admitted, victims}
end
local all_cancel_in_progress = true
for _, i in ipairs(full) do
  if strategies[i] == 'CANCEL_NEWEST' then
    park_task(run, task, attempt, parked)
    return {'cancel', admitted, victims}
  end
  if strategies[i] ~= 'CANCEL_IN_PROGRESS' then all_cancel_in_progress = false end
end
if all_cancel_in_progress then
  -- the oldest holders of each full key make room for the newcomer
  for _, i in ipairs(full) do
    while conc_count(state, i, keys[i]) >= conc_max(state, i, keys[i]) do
      local oldest, plen = conc_range(held, i, keys[i], 1)
      if not oldest[1] then break end
      local victim = string.sub(oldest[1], plen + 18)
      conc_drop(state, held, 'h', victim)
      victims[#victims + 1] = victim
    end
  end
  conc_hold(state, held, holder, rec)
  return {'admit', admitted, victims}
end
for _, i in ipairs(full) do
  if strategies[i] == 'CANCEL_QUEUED_EXCEPT_OLDEST' then
    local p = conc_prefix(i, keys[i])
    if redis.call('ZLEXCOUNT', queue, '[' .. p, '[' .. p .. '\255') >= conc_max(state, i, keys[i]) then
      park_task(run, task, attempt, parked)
      return {'cancel', admitted, victims}
    end
  end
end
redis.call('HSET', state, 'w:' .. holder, cjson.encode(rec))
for i = 1, n do
  redis.call('ZADD', queue, 0, conc_entry(i, keys[i], rec.s, holder))
end
park_task(run, task, attempt, parked)
for _, i in ipairs(full) do
  if strategies[i] == 'CANCEL_QUEUED_EXCEPT_NEWEST' then
    local p = conc_prefix(i, keys[i])
    local max = conc_max(state, i, keys[i])
    while redis.call('ZLEXCOUNT', queue, '[' .. p, '[' .. p .. '\255') > max do
      local oldest, plen = conc_range(queue, i, keys[i], 1)
      local victim = string.sub(oldest[1], plen + 18)
      conc_drop(state, queue, 'w', victim)
      victims[#victims + 1] = victim
    end
  end
end
return {'wait', admitted, victims}
