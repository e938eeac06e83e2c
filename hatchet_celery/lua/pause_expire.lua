-- Drop the parked task runs of a paused workflow that the caller cancelled (they waited
-- longer than its queue TTL), and in the same step re-arm the expiry timer for the next
-- oldest one, or remove it (none left, or the workflow is no longer paused). Doing both
-- here keeps the timer right against pause_park.lua parking a task run meanwhile.
-- KEYS[1] paused workflows hash (keys.paused)  KEYS[2] parked set of the workflow
--      (keys.paused_tasks)  KEYS[3] timers
-- ARGV: workflow member ("pz|<workflow>"), then the parked members cancelled
--      ("run_id|task|attempt")
-- Returns 1.
local paused, parked, timers = KEYS[1], KEYS[2], KEYS[3]
local workflow, member = ARGV[1], ARGV[2]
for i = 3, #ARGV do
  redis.call('ZREM', parked, ARGV[i])
end
local raw = redis.call('HGET', paused, workflow)
if not raw then
  redis.call('ZREM', timers, member)
  return 1
end
local ttl = tonumber(cjson.decode(raw).ttl)
local next_one = redis.call('ZRANGE', parked, 0, 0, 'WITHSCORES')
if next_one[2] then
  redis.call('ZADD', timers, string.format('%.17g', tonumber(next_one[2]) + ttl), member)
else
  redis.call('ZREM', timers, member)
end
return 1
