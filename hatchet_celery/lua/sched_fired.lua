-- The run of a scheduled run exists: record when, drop the timer, and let the record
-- expire with the runs (retention), as Hatchet keeps past schedules for a while.
-- KEYS[1] scheduled hash  KEYS[2] timers
-- ARGV: member now retention_seconds
-- Returns 1.
local sched, timers = KEYS[1], KEYS[2]
redis.call('ZREM', timers, ARGV[1])
if redis.call('EXISTS', sched) == 1 then
  redis.call('HSET', sched, 'ft', ARGV[2])
  if tonumber(ARGV[3]) > 0 then
    redis.call('EXPIRE', sched, ARGV[3])
  end
end
return 1
