-- The pause gate: park the ready task runs of a paused workflow (WAIT_PAUSED).
-- KEYS[1] paused workflows hash (keys.paused)  KEYS[2] parked set of the workflow
--      (keys.paused_tasks)  KEYS[3] timers
-- ARGV: workflow now run_prefix, then per task run: run_id task attempt
-- Parked members are "run_id|task|attempt" scored by the time the task run was queued;
-- the expiry timer "pz|<workflow>" is kept at the oldest member's queued time + queue TTL.
-- Returns 0 when the workflow is not paused (nothing parked), else 1.
local paused, parked, timers = KEYS[1], KEYS[2], KEYS[3]
local workflow, now, run_prefix = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local raw = redis.call('HGET', paused, workflow)
if not raw then return 0 end
local ttl = tonumber(cjson.decode(raw).ttl)
local earliest = nil
for i = 4, #ARGV, 3 do
  local run_id, task, attempt = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local run = run_prefix .. run_id
  if park_task(run, task, attempt, 'WAIT_PAUSED') then
    local queued = tonumber(redis.call('HGET', run, 'q:' .. task) or now)
    redis.call('ZADD', parked, queued, run_id .. '|' .. task .. '|' .. attempt)
    if not earliest or queued < earliest then earliest = queued end
  end
end
if earliest then
  local member = 'pz|' .. workflow
  local due = earliest + ttl
  local current = redis.call('ZSCORE', timers, member)
  if not current or tonumber(current) > due then
    redis.call('ZADD', timers, due, member)
  end
end
return 1
