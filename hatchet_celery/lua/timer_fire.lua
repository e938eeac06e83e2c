-- Handle a claimed task timer: 'd' (dispatch after a retry backoff) or 'w' (watchdog:
-- re-dispatch a task still queued, or time it out when its schedule deadline passed).
-- A 'd' timer becomes the task run's watchdog here, in one step; otherwise the pump
-- applies the caller's outcome (remove, or re-arm at the time returned).
-- KEYS[1] run hash  KEYS[2] timers
-- ARGV: member kind attempt run_id task now rewatch_at
-- Returns {'dispatch', workflow, priority, parent_task_run_id, rewatch_at ('' for 'd')},
-- {'timeout'} or {'drop'}.
local run, timers = KEYS[1], KEYS[2]
local member, kind, attempt, run_id, task, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if redis.call('HGET', run, 's:' .. task) ~= 'QUEUED' or redis.call('HGET', run, 'a:' .. task) ~= attempt then
  return {'drop'}
end
local info = redis.call('HMGET', run, 'wf', 'pr', 'ptr')
local wf = info[1]
if kind == 'd' then
  redis.call('ZREM', timers, member)
  redis.call('HSET', run, 'q:' .. task, now)
  redis.call('ZADD', timers, ARGV[7], watchdog_member(attempt, run_id, task))
  return {'dispatch', wf, info[2] or '', info[3] or '', ''}
end
local deadline = tonumber(redis.call('HGET', run, 'x:' .. task) or '0')
if deadline > 0 and tonumber(now) >= deadline then
  return {'timeout'}
end
local next_at = ARGV[7]
if deadline > 0 and tonumber(next_at) > deadline then next_at = string.format('%.17g', deadline) end
return {'dispatch', wf, info[2] or '', info[3] or '', next_at}
