-- Claim due entries of a timer-like sorted set. A claimed entry's score moves to
-- now + lease, so an entry whose handler dies is claimed again later (never lost);
-- the handler removes or re-arms it.
-- KEYS[1] sorted set  ARGV: now limit lease
-- Returns the claimed members.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local later = tonumber(ARGV[1]) + tonumber(ARGV[3])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], later, member)
end
return due
