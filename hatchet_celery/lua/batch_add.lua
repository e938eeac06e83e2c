-- The batch gate: park ready task runs of a batch task in the buffer of their group.
-- A parked member is WAIT_BATCH (never claimed, ignored by the watchdog) until a flush
-- takes it (batch_flush.lua).
-- KEYS[1] buffer list (members "run_id|attempt|bytes", oldest first)
-- KEYS[2] buffer byte count  KEYS[3] timers
-- ARGV[1] run_prefix  ARGV[2] task  ARGV[3] now  ARGV[4] max_size  ARGV[5] max_bytes
-- ARGV[6] interval seconds ('' none)  ARGV[7] flush timer member
--      then per member: run_id attempt bytes
-- The flush timer is armed when the buffer gets its first member (its oldest member's
-- arrival + interval) and kept while members wait.
-- Returns 1 when the buffer is full (the caller flushes it now), else 0.
local buffer, bytes, timers = KEYS[1], KEYS[2], KEYS[3]
local run_prefix, task, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local max_size, max_bytes = tonumber(ARGV[4]), tonumber(ARGV[5])
local interval, member = ARGV[6], ARGV[7]

for i = 8, #ARGV, 3 do
  local run_id, attempt, size = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if park_task(run_prefix .. run_id, task, attempt, 'WAIT_BATCH') then
    redis.call('RPUSH', buffer, run_id .. '|' .. attempt .. '|' .. size)
    redis.call('INCRBY', bytes, size)
  end
end
local count = redis.call('LLEN', buffer)
if count == 0 then return 0 end
if count >= max_size or tonumber(redis.call('GET', bytes) or '0') >= max_bytes then
  return 1
end
if interval ~= '' then
  redis.call('ZADD', timers, 'NX', now + tonumber(interval), member)
end
return 0
