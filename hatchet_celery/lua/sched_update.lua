-- Move a scheduled run that has not fired yet to another time.
-- KEYS[1] scheduled hash  KEYS[2] timers
-- ARGV: scheduled_id trigger_at now
-- Returns 1 when moved, 0 when there is no such scheduled run, 2 when it already fired.
local sched, timers = KEYS[1], KEYS[2]
if redis.call('EXISTS', sched) == 0 then
  return 0
end
if (redis.call('HGET', sched, 'run') or '') ~= '' then
  return 2
end
redis.call('HSET', sched, 'at', ARGV[2], 'ut', ARGV[3])
redis.call('ZADD', timers, ARGV[2], 's|' .. ARGV[1])
return 1
