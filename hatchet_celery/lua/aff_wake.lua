-- A worker may now take a parked task run: back to QUEUED, to be published to its queue.
-- KEYS[1] run hash  KEYS[2] timers
-- ARGV: member run_id task attempt parked_status watch_at
-- Returns {task_run_id, attempt} or {} when it moved on meanwhile.
local run, timers = KEYS[1], KEYS[2]
local member, run_id, task, attempt = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('ZREM', timers, member)
if redis.call('HGET', run, 'a:' .. task) ~= attempt then return {} end
return wake_task(run, timers, run_id, task, ARGV[5], ARGV[6]) or {}
