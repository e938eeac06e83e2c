-- A running task's lease expired (its worker died): queue it again, same attempt.
-- KEYS[1] leases  KEYS[2] run hash  KEYS[3] timers
-- ARGV: member run_id task claim now deadline
-- Returns 1 when requeued, 0 when the lease was stale.
local leases, run, timers = KEYS[1], KEYS[2], KEYS[3]
local member, run_id, task, claim, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
redis.call('ZREM', leases, member)
if redis.call('HGET', run, 's:' .. task) ~= 'RUNNING' or redis.call('HGET', run, 'c:' .. task) ~= claim then
  return 0
end
local attempt = redis.call('HGET', run, 'a:' .. task)
redis.call('HSET', run, 's:' .. task, 'QUEUED', 'q:' .. task, now, 'x:' .. task, ARGV[6])
redis.call('ZADD', timers, now, dispatch_member(attempt, run_id, task))
return 1
