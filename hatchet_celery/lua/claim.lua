-- A worker takes a queued task run: QUEUED -> RUNNING under a new claim token.
-- KEYS[1] run hash  KEYS[2] leases  KEYS[3] timers  (optional) KEYS[4] status index
-- ARGV: run_id task attempt worker now lease_until then parent task names
-- Returns {1, claim, input, metadata, priority, task_run_id, parent_run_id,
--          parent_task_run_id, child_index, child_key, workflow, trigger_labels,
--          sticky_worker, p1_output, p1_status, ...}
--   (trigger_labels and sticky_worker: the run's routing options, which the task runs
--   this one releases are routed by without another read; Python: executor.Claimed)
--      or {0} run gone, {2, status} not claimable (duplicate or stale message),
--         {3, claim} its schedule deadline has passed.
-- Everything it reads is one HMGET and everything it writes to the run one HSET: five
-- commands in all on the common path (six for the first task of a run).
local run, leases, timers = KEYS[1], KEYS[2], KEYS[3]
local run_id, task, attempt, now = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local FIRST_PARENT = 7
local fields = {'s:' .. task, 'a:' .. task, 'x:' .. task, 'c:' .. task, 'st', 'ct',
  'in', 'md', 'pr', 'i:' .. task, 'par', 'ptr', 'ci', 'ck', 'wf', 'aff', 'sw'}
local FIRST_RETURNED = 7
for i = FIRST_PARENT, #ARGV do
  fields[#fields + 1] = 'o:' .. ARGV[i]
  fields[#fields + 1] = 's:' .. ARGV[i]
end
local f = redis.call('HMGET', run, unpack(fields))
local st = f[1]
if not st then
  if redis.call('EXISTS', run) == 0 then return {0} end
  return {2, 'MISSING'}
end
if st ~= 'QUEUED' or f[2] ~= attempt then
  return {2, st}
end
local deadline = tonumber(f[3] or '0')
if deadline > 0 and tonumber(now) > deadline then
  return {3, f[4] or '0'}
end
local claim = tonumber(f[4] or '0') + 1
local first = f[5] == 'QUEUED'
if first then
  redis.call('HSET', run, 's:' .. task, 'RUNNING', 'c:' .. task, claim, 'b:' .. task, now,
    'w:' .. task, ARGV[4], 'st', 'RUNNING', 'bt', now)
else
  redis.call('HSET', run, 's:' .. task, 'RUNNING', 'c:' .. task, claim, 'b:' .. task, now,
    'w:' .. task, ARGV[4])
end
redis.call('ZREM', timers, watchdog_member(attempt, run_id, task))
redis.call('ZADD', leases, ARGV[6], claim .. '|' .. run_id .. '|' .. task)
if first then
  index_status({status = KEYS[4]}, run, run_id, 'RUNNING', f[6])
end
local out = {1, claim}
for i = FIRST_RETURNED, #f do
  out[#out + 1] = f[i] or ''
end
return out
