-- The run of a scheduled run exists: record when, and let the record expire with the
-- runs (retention), as Hatchet keeps past schedules for a while. (The pump then removes
-- the timer.)
-- KEYS[1] scheduled hash
-- ARGV: now retention_seconds
-- Returns 1.
local sched = KEYS[1]
if redis.call('EXISTS', sched) == 1 then
  redis.call('HSET', sched, 'ft', ARGV[1])
  if tonumber(ARGV[2]) > 0 then
    redis.call('EXPIRE', sched, ARGV[2])
  end
end
return 1
