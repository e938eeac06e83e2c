-- A task run's attempt failed: schedule a retry, or record the failure, block the
-- task's descendants and finish the run when nothing else can happen.
-- KEYS[1] run hash  KEYS[2] leases  KEYS[3] timers  KEYS[4] done channel
--      (optional) KEYS[5] status index  KEYS[6] task run index
-- ARGV: run_id task claim error now retention retry(0|1) retry_at expected_status
--       final_status(FAILED|CANCELLED) of of_id of_watch of_deadline schedule_timeout
--       then descendants
-- Returns {1, attempt} retry scheduled, {2, run_status, of_or_'', of_attempt} recorded, {-1} stale.
local run, leases, timers, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_id, task, claim, now = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local ix = {status = KEYS[5], tasks = KEYS[6]}
if redis.call('HGET', run, 's:' .. task) ~= ARGV[9]
    or redis.call('HGET', run, 'c:' .. task) ~= claim then
  return {-1}
end
redis.call('ZREM', leases, claim .. '|' .. run_id .. '|' .. task)
-- Every attempt's error is kept ('ea:<task>:<attempt>'; 'e:<task>' is the latest), so the
-- run page and the task event history can show each failed attempt.
local failed_attempt = redis.call('HGET', run, 'a:' .. task) or '0'
redis.call('HSET', run, 'ea:' .. task .. ':' .. failed_attempt, ARGV[4])
if ARGV[7] == '1' then
  local attempt = redis.call('HINCRBY', run, 'a:' .. task, 1)
  redis.call('HSET', run, 's:' .. task, 'QUEUED', 'e:' .. task, ARGV[4], 'q:' .. task, ARGV[8],
    'x:' .. task, tonumber(ARGV[8]) + tonumber(ARGV[15]))
  redis.call('ZADD', timers, ARGV[8], dispatch_member(attempt, run_id, task))
  return {1, attempt}
end
local old = redis.call('HGET', run, 'a:' .. task)
redis.call('ZREM', timers, watchdog_member(old, run_id, task))
redis.call('HSET', run, 's:' .. task, ARGV[10], 'e:' .. task, ARGV[4], 'f:' .. task, now)
if ARGV[10] == 'FAILED' then
  redis.call('HINCRBY', run, 'nf', 1)
else
  redis.call('HINCRBY', run, 'nc', 1)
end
local blocked = 1
for i = 16, #ARGV do
  if not redis.call('HGET', run, 's:' .. ARGV[i]) then
    redis.call('HSET', run, 's:' .. ARGV[i], 'BLOCKED')
    blocked = blocked + 1
  end
end
redis.call('HINCRBY', run, 'd', blocked)
local of = maybe_finish(run, timers, done, run_id, now, ARGV[6], ARGV[11], ARGV[12], ARGV[13], ARGV[14], ix)
return {2, redis.call('HGET', run, 'st'), of or '',
  of and tonumber(redis.call('HGET', run, 'a:' .. of) or '0') or 0}
