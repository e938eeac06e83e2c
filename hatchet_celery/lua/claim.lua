-- A worker takes a queued task run: QUEUED -> RUNNING under a new claim token.
-- KEYS[1] run hash  KEYS[2] leases  KEYS[3] timers  (optional) KEYS[4] status index
-- ARGV: run_id task attempt worker now lease_until then parent task names
-- Returns {1, claim, input, metadata, priority, task_run_id, parent_run_id,
--          parent_task_run_id, child_index, child_key, workflow, p1_output, p2_output...}
--      or {0} run gone, {2, status} not claimable (duplicate or stale message),
--         {3, claim} its schedule deadline has passed.
local run, leases, timers = KEYS[1], KEYS[2], KEYS[3]
local run_id, task, attempt, now = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local st = redis.call('HGET', run, 's:' .. task)
if not st then
  if redis.call('EXISTS', run) == 0 then return {0} end
  return {2, 'MISSING'}
end
if st ~= 'QUEUED' or redis.call('HGET', run, 'a:' .. task) ~= attempt then
  return {2, st}
end
local deadline = tonumber(redis.call('HGET', run, 'x:' .. task) or '0')
if deadline > 0 and tonumber(now) > deadline then
  return {3, redis.call('HGET', run, 'c:' .. task) or '0'}
end
local claim = redis.call('HINCRBY', run, 'c:' .. task, 1)
redis.call('HSET', run, 's:' .. task, 'RUNNING', 'b:' .. task, now, 'w:' .. task, ARGV[4])
redis.call('ZREM', timers, watchdog_member(attempt, run_id, task))
redis.call('ZADD', leases, ARGV[6], claim .. '|' .. run_id .. '|' .. task)
if redis.call('HGET', run, 'st') == 'QUEUED' then
  redis.call('HSET', run, 'st', 'RUNNING', 'bt', now)
  index_status({status = KEYS[4]}, run, run_id, 'RUNNING')
end
local f = redis.call('HMGET', run, 'in', 'md', 'pr', 'i:' .. task, 'par', 'ptr', 'ci', 'ck', 'wf')
local out = {1, claim, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]}
for i = 7, #ARGV do
  out[#out + 1] = redis.call('HGET', run, 'o:' .. ARGV[i]) or ''
  out[#out + 1] = redis.call('HGET', run, 's:' .. ARGV[i]) or ''
end
return out
