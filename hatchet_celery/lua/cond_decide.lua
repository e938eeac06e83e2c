-- The conditions gate decides a ready task run at once (its parent conditions settle it,
-- or a decision was taken before: a requeue after a lost worker meets the gate again).
-- KEYS[1] run hash  KEYS[2] timers  KEYS[3] leases
-- ARGV: run_id task attempt action(SKIP|CANCEL) now lease_until cx_at
-- A decision already stored in cd:<task> wins over ARGV's. SKIP: QUEUED -> RUNNING under a
-- new claim and lease (the caller records SKIPPED through complete.lua); CANCEL: QUEUED ->
-- WAITING (the caller records CANCELLED through fail.lua). A 'wdx' timer at cx_at carries
-- the decision out if the caller dies first.
-- Returns {1, action, claim} or {0} when the task run is not QUEUED with that attempt.
local run, timers, leases = KEYS[1], KEYS[2], KEYS[3]
local run_id, task, attempt, now = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
if redis.call('HGET', run, 's:' .. task) ~= 'QUEUED'
    or redis.call('HGET', run, 'a:' .. task) ~= attempt then
  return {0}
end
local action = redis.call('HGET', run, 'cd:' .. task) or ARGV[4]
if action == 'QUEUE' then
  return {1, action, ''}
end
redis.call('HSET', run, 'cd:' .. task, action)
redis.call('ZREM', timers, watchdog_member(attempt, run_id, task))
local claim = redis.call('HGET', run, 'c:' .. task) or '0'
if action == 'SKIP' then
  claim = redis.call('HINCRBY', run, 'c:' .. task, 1)
  redis.call('HSET', run, 's:' .. task, 'RUNNING', 'b:' .. task, now)
  redis.call('ZADD', leases, ARGV[6], claim .. '|' .. run_id .. '|' .. task)
else
  redis.call('HSET', run, 's:' .. task, 'WAITING')
end
redis.call('ZADD', timers, ARGV[7], 'wdx|' .. run_id .. '|' .. task)
return {1, action, tostring(claim)}
