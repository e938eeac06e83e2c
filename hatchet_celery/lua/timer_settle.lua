-- Apply the outcomes of timer entries a pump claimed (claim_due.lua) and handled: remove
-- an entry whose handler is done, re-score one to re-arm it. Each applies only while the
-- entry is still as this pump claimed it (its score is the claim's now + lease): an entry
-- a script re-armed, removed or armed again meanwhile (a gate parking the task run again,
-- a scheduled run moved, another pump's later claim) is left as it is.
-- KEYS[1] timers
-- ARGV: now lease (as given to claim_due), then per entry: member at ('' = remove)
-- Returns the number of entries changed.
local timers = KEYS[1]
local claimed = tonumber(ARGV[1]) + tonumber(ARGV[2])  -- as claim_due wrote it, in full
local changed = 0
for i = 3, #ARGV, 2 do
  local member, at = ARGV[i], ARGV[i + 1]
  local score = redis.call('ZSCORE', timers, member)
  if score and tonumber(score) == claimed then
    if at == '' then
      redis.call('ZREM', timers, member)
    else
      redis.call('ZADD', timers, at, member)
    end
    changed = changed + 1
  end
end
return changed
