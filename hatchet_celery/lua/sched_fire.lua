-- A claimed 's|<id>' timer: decide whether the scheduled run is due and which run id it
-- creates. The run id is recorded before the run exists, so a handler that dies before
-- sched_fired is retried with the same id and cannot create a second run. The pump
-- removes or re-arms the timer from what this returns.
-- KEYS[1] scheduled hash
-- ARGV: now run_id (used unless one is recorded already)
-- Returns {1, run_id, workflow, input, metadata, priority} to fire,
--         {0} when the scheduled run is gone, {0, at} when it was moved later (to at).
local sched = KEYS[1]
local now = tonumber(ARGV[1])
if redis.call('EXISTS', sched) == 0 then
  return {0}
end
local f = redis.call('HMGET', sched, 'at', 'run', 'wf', 'in', 'md', 'pr')
local at = tonumber(f[1])
local run = f[2] or ''
if run == '' and at > now then
  return {0, f[1]}
end
if run == '' then
  run = ARGV[2]
  redis.call('HSET', sched, 'run', run)
end
return {1, run, f[3], f[4] or '{}', f[5] or '{}', f[6] or ''}
