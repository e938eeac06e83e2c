-- Claim one tick of one cron for the calling beat: each tick fires once, whatever the
-- number of beats. The latest tick fired per cron is kept (one field per cron, however
-- fast it ticks), and only a later tick can be claimed: a beat that restarts, or a second
-- beat, never fires a tick again, and a tick older than one already fired is never
-- back-filled.
-- KEYS[1] crons hash  KEYS[2] fired hash
-- ARGV: cron_id tick (epoch seconds)
-- Returns the cron record JSON when this caller fires the tick, false otherwise.
local crons, fired = KEYS[1], KEYS[2]
local record = redis.call('HGET', crons, ARGV[1])
if not record then
  return false
end
local last = redis.call('HGET', fired, ARGV[1])
if last and tonumber(last) >= tonumber(ARGV[2]) then
  return false
end
redis.call('HSET', fired, ARGV[1], ARGV[2])
return record
