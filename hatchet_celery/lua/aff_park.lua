-- No worker may take a ready task run now (required labels unmet, HARD sticky worker
-- gone): park it (WAIT_WORKER) and look again at retry_at.
-- KEYS[1] run hash  KEYS[2] timers
-- ARGV: task attempt parked_status member retry_at
-- Returns 1 when parked, 0 when it moved on meanwhile.
local run, timers = KEYS[1], KEYS[2]
if not park_task(run, ARGV[1], ARGV[2], ARGV[3]) then return 0 end
redis.call('ZADD', timers, ARGV[5], ARGV[4])
return 1
