-- A claimed 's|<id>' timer: decide whether the scheduled run is due and which run id it
-- creates. The run id is recorded before the run exists, so a handler that dies before
-- sched_fired is retried with the same id and cannot create a second run.
-- KEYS[1] scheduled hash  KEYS[2] timers
-- ARGV: member now run_id (used unless one is recorded already)
-- Returns {1, run_id, workflow, input, metadata, priority} to fire,
--         {0} when the scheduled run is gone (timer dropped) or was moved later (re-armed).
local sched, timers = KEYS[1], KEYS[2]
local member, now = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', sched) == 0 then
  redis.call('ZREM', timers, member)
  return {0}
end
local f = redis.call('HMGET', sched, 'at', 'run', 'wf', 'in', 'md', 'pr')
local at = tonumber(f[1])
local run = f[2] or ''
if run == '' and at > now then
  redis.call('ZADD', timers, at, member)
  return {0}
end
if run == '' then
  run = ARGV[3]
  redis.call('HSET', sched, 'run', run)
end
return {1, run, f[3], f[4] or '{}', f[5] or '{}', f[6] or ''}
