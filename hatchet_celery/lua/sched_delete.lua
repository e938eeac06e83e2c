-- Delete a scheduled run and disarm its timer (a run it already created is not touched).
-- KEYS[1] scheduled hash  KEYS[2] scheduled index  KEYS[3] timers
-- ARGV: scheduled_id
-- Returns 1 when deleted, 0 when there was no such scheduled run.
local sched, index, timers = KEYS[1], KEYS[2], KEYS[3]
redis.call('ZREM', index, ARGV[1])
redis.call('ZREM', timers, 's|' .. ARGV[1])
return redis.call('DEL', sched)
