-- Claim due entries of a timer-like sorted set. A claimed entry's score moves to
-- now + lease, so an entry whose handler dies is claimed again later (never lost).
-- For P:timers the pump then applies each handler's outcome with timer_settle.lua (given
-- the same now and lease, so it recognises its own claim); for P:leases the reaper's
-- requeue_lost.lua drops the lease it handled.
-- KEYS[1] sorted set  ARGV: now limit lease
-- Returns the claimed members.
local set = KEYS[1]
local due = redis.call('ZRANGEBYSCORE', set, '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
-- written in full (a number argument would be rounded), so timer_settle finds it exact
local later = string.format('%.17g', tonumber(ARGV[1]) + tonumber(ARGV[3]))
for _, member in ipairs(due) do
  redis.call('ZADD', set, later, member)
end
return due
