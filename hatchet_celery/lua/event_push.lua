-- Store a pushed event and read the waiters of its key in the same step: a wait
-- registered before this push is returned here; one registered after it finds the event
-- in its lookback read (cond_wait.lua). No event falls between the two.
-- KEYS[1] event data hash  KEYS[2] events index  KEYS[3] events of this key
--      KEYS[4] waiters of this key  KEYS[5] timers
-- ARGV: event_id event_json ts cutoff (events older than cutoff are dropped) recover_at
-- A 'wev|<event_id>' timer at recover_at lets a worker finish the event's work (wake,
-- trigger: both idempotent) if the pushing process dies first; the pusher removes it.
-- Returns the waiters as a flat list: member, waiter_json, member, waiter_json, ...
local data, index, by_key, waiters = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
redis.call('HSET', data, ARGV[1], ARGV[2])
redis.call('ZADD', index, ARGV[3], ARGV[1])
redis.call('ZADD', by_key, ARGV[3], ARGV[1])
local old = redis.call('ZRANGEBYSCORE', index, '-inf', ARGV[4], 'LIMIT', 0, 500)
if #old > 0 then
  redis.call('HDEL', data, unpack(old))
  redis.call('ZREM', index, unpack(old))
end
redis.call('ZREMRANGEBYSCORE', by_key, '-inf', ARGV[4])
redis.call('ZADD', KEYS[5], ARGV[5], 'wev|' .. ARGV[1])
return redis.call('HGETALL', waiters)
