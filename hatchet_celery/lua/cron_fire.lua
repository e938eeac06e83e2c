-- Claim one tick of one cron for the calling beat: each tick is fired first by one beat,
-- whatever the number of beats. The ticks fired within the catch-up window are kept per cron, so two
-- beats, a restarted beat or a beat catching up after a stall fire each tick once; the
-- latest tick fired is the high-water mark, and a tick older than it by more than the
-- window is never fired (no back-fill of ticks missed while no beat ran).
-- KEYS[1] crons hash  KEYS[2] fired hash (high-water marks)  KEYS[3] this cron's recent zset
-- ARGV: cron_id tick (epoch seconds) window (seconds)
-- Returns {record JSON, 1} when this caller is the first to fire the tick, {record JSON,
-- 0} when another beat claimed it already (the caller makes sure its run exists: its id
-- is derived from the tick, so this creates nothing unless the first beat died before
-- creating it), false when the cron is gone or the tick is older than the window.
local crons, fired, recent = KEYS[1], KEYS[2], KEYS[3]
local record = redis.call('HGET', crons, ARGV[1])
if not record then
  return false
end
local tick, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local last = tonumber(redis.call('HGET', fired, ARGV[1]) or '-1')
if tick <= last - window then
  return false
end
if redis.call('ZSCORE', recent, tick) then
  return {record, 0}
end
redis.call('ZADD', recent, tick, tick)
if tick > last then
  redis.call('HSET', fired, ARGV[1], tick)
  last = tick
end
redis.call('ZREMRANGEBYSCORE', recent, '-inf', last - window)
redis.call('EXPIRE', recent, window * 2 + 60)
return {record, 1}
