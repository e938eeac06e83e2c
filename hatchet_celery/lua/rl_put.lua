-- Create or change a rate-limit bucket (hatchet.rate_limits.put), or pause it.
-- KEYS[1] bucket  KEYS[2] rate-limit index
-- ARGV: key now limit window paused_until ('' keeps the limit; '' keeps the pause)
-- Returns the bucket's pause end (0 when not paused). A pause never shortens.
local bucket, index = KEYS[1], KEYS[2]
local key, now = ARGV[1], ARGV[2]
if ARGV[3] ~= '' then
  redis.call('HSET', bucket, 'key', key, 'limit', ARGV[3], 'window', ARGV[4], 'static', 1)
  redis.call('PERSIST', bucket)  -- it may have been a dynamic key, which expires when idle
elseif redis.call('EXISTS', bucket) == 0 then
  return redis.error_reply('rate limit ' .. key .. ' does not exist')
end
local paused = tonumber(redis.call('HGET', bucket, 'paused') or '0')
if ARGV[5] ~= '' and tonumber(ARGV[5]) > paused then
  paused = tonumber(ARGV[5])
  redis.call('HSET', bucket, 'paused', ARGV[5])
  local ttl, need = redis.call('TTL', bucket), math.ceil(paused - tonumber(now)) + 60
  if ttl >= 0 and ttl < need then  -- an expiring dynamic key outlives its pause
    redis.call('EXPIRE', bucket, need)
  end
end
redis.call('ZADD', index, now, key)
return tostring(paused)
