-- Append a chunk to a run's stream and wake its subscribers.
-- KEYS[1] stream list  KEYS[2] stream channel
-- ARGV: chunk ttl_seconds
-- Returns the chunk's index (0-based).
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], n - 1)
return n - 1
