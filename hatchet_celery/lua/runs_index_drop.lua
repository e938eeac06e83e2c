-- Forget listing indexes that retention emptied (unless a run joined one meanwhile).
-- KEYS[1] index registry (set)  KEYS[2..] index sorted sets
-- ARGV: none.  Returns how many were dropped.
local dropped = 0
for i = 2, #KEYS do
  if redis.call('ZCARD', KEYS[i]) == 0 then
    redis.call('SREM', KEYS[1], KEYS[i])
    dropped = dropped + 1
  end
end
return dropped
