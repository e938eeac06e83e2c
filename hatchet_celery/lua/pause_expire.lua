-- Take the parked task runs of a paused workflow that waited longer than its queue TTL.
-- KEYS[1] paused workflows hash (keys.paused)  KEYS[2] parked set of the workflow
--      (keys.paused_tasks)  KEYS[3] timers
-- ARGV: workflow now member ("pz|<workflow>")
-- The caller cancels the returned task runs. The timer is re-armed for the next oldest
-- member, or removed (no member left, or the workflow is no longer paused).
-- Returns the expired members "run_id|task|attempt".
local paused, parked, timers = KEYS[1], KEYS[2], KEYS[3]
local workflow, now, member = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local raw = redis.call('HGET', paused, workflow)
if not raw then
  redis.call('ZREM', timers, member)
  return {}
end
local ttl = tonumber(cjson.decode(raw).ttl)
local expired = redis.call('ZRANGEBYSCORE', parked, '-inf', now - ttl)
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', parked, '-inf', now - ttl)
end
local next_one = redis.call('ZRANGE', parked, 0, 0, 'WITHSCORES')
if next_one[2] then
  redis.call('ZADD', timers, tonumber(next_one[2]) + ttl, member)
else
  redis.call('ZREM', timers, member)
end
return expired
