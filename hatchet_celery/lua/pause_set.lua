-- Pause or unpause a workflow.
-- KEYS[1] paused workflows hash (keys.paused)  KEYS[2] parked set of the workflow
--      (keys.paused_tasks)  KEYS[3] timers
-- ARGV: workflow now run_prefix record (JSON {ttl, cron, scheduled}; '' = unpause)
-- Pausing records the settings (a new pause replaces them). Unpausing forgets them and
-- puts every parked task run back to QUEUED with a due dispatch timer, so a worker's pump
-- sends it through the gates behind the pause; its schedule deadline restarts from now.
-- Returns the number of task runs released.
local paused, parked, timers = KEYS[1], KEYS[2], KEYS[3]
local workflow, now, run_prefix, record = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
if record ~= '' then
  redis.call('HSET', paused, workflow, record)
  return 0
end
redis.call('HDEL', paused, workflow)
redis.call('ZREM', timers, 'pz|' .. workflow)
local released = 0
for _, member in ipairs(redis.call('ZRANGE', parked, 0, -1)) do
  local a = string.find(member, '|', 1, true)
  local b = string.find(member, '|', a + 1, true)
  local run_id, task = string.sub(member, 1, a - 1), string.sub(member, a + 1, b - 1)
  local attempt = string.sub(member, b + 1)
  local run = run_prefix .. run_id
  local f = redis.call('HMGET', run, 's:' .. task, 'a:' .. task, 'q:' .. task, 'x:' .. task)
  if f[1] == 'WAIT_PAUSED' and f[2] == attempt then
    local deadline = tonumber(f[4] or '0')
    if deadline > 0 then
      deadline = now + (deadline - tonumber(f[3] or now))
    end
    redis.call('HSET', run, 's:' .. task, 'QUEUED', 'x:' .. task, deadline)
    redis.call('ZADD', timers, now, dispatch_member(attempt, run_id, task))
    released = released + 1
  end
end
redis.call('DEL', parked)
return released
