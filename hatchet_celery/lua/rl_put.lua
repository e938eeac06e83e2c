-- Create or change a rate-limit bucket (hatchet.rate_limits.put), or pause it.
-- KEYS[1] bucket  KEYS[2] rate-limit index
-- ARGV: key now(s) limit window(s) paused_until(s) ('' keeps the limit; '' keeps the pause)
-- A new bucket is full and its windows start now. Changing the limit of a bucket caps the
-- units left at the new limit (a higher limit shows from the next window), as Hatchet's
-- upsert does; changing its window starts the windows again from now. Bucket fields: see
-- rl_take.lua. Returns the bucket's pause end (0 when not paused). A pause never shortens.
local bucket, index = KEYS[1], KEYS[2]
local key, now_s, limit, window, pause_until = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now = math.floor(tonumber(now_s) * 1000 + 0.5)
if limit ~= '' then
  local h = redis.call('HMGET', bucket, 'window', 'origin', 'value')
  local lim = tonumber(limit)
  if not h[2] then
    redis.call('HSET', bucket, 'origin', now, 'w', 0, 'value', lim, 'rw', 0)
  else
    redis.call('HSET', bucket, 'value', math.min(lim, tonumber(h[3])))
    if tonumber(h[1]) ~= tonumber(window) then
      redis.call('HSET', bucket, 'origin', now, 'w', 0, 'rw', 0)
      for _, field in ipairs(redis.call('HKEYS', bucket)) do
        if string.sub(field, 1, 2) == 'r:' then redis.call('HDEL', bucket, field) end
      end
    end
  end
  redis.call('HSET', bucket, 'key', key, 'limit', limit, 'window', window, 'static', 1)
  redis.call('HDEL', bucket, 'tat')  -- the pacing state of earlier versions
  redis.call('PERSIST', bucket)  -- it may have been a dynamic key, which expires when idle
elseif redis.call('EXISTS', bucket) == 0 then
  return redis.error_reply('rate limit ' .. key .. ' does not exist')
end
local paused = tonumber(redis.call('HGET', bucket, 'paused') or '0')
if pause_until ~= '' and tonumber(pause_until) > paused then
  paused = tonumber(pause_until)
  redis.call('HSET', bucket, 'paused', pause_until)
  local ttl, need = redis.call('TTL', bucket), math.ceil(paused - tonumber(now_s)) + 60
  if ttl >= 0 and ttl < need then  -- an expiring dynamic key outlives its pause
    redis.call('EXPIRE', bucket, need)
  end
end
redis.call('ZADD', index, now_s, key)
return tostring(paused)
