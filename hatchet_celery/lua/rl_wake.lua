-- A rate-limited task run's reserved instant came: back to QUEUED, to be dispatched.
-- KEYS[1] run hash  KEYS[2] timers
-- ARGV: member run_id task attempt parked_status watch_at
-- Returns {workflow, priority, task_run_id, attempt} or {} when it moved on meanwhile.
local run, timers = KEYS[1], KEYS[2]
local member, run_id, task, attempt = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('ZREM', timers, member)
if redis.call('HGET', run, 'a:' .. task) ~= attempt then return {} end
local woken = wake_task(run, timers, run_id, task, ARGV[5], ARGV[6])
if not woken then return {} end
local f = redis.call('HMGET', run, 'wf', 'pr')
return {f[1] or '', f[2] or '', woken[1], woken[2]}
