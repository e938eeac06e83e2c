-- Take a ready task run's units from every rate-limit bucket it names, at one instant.
-- Buckets are GCRA (a token bucket holding one unit): a limit of L per W seconds admits
-- one unit every W / L seconds, so never more than L units start in any window of W
-- (plus the one at its edge). A task run that cannot start now reserves its instant in
-- every bucket (first come, first served) and waits on a timer, parked: no slot held.
-- KEYS[1] run hash  KEYS[2] timers  KEYS[3] rate-limit index  KEYS[4..] buckets
-- ARGV: run_id task attempt parked_status now watch_at wake_member retry_member retry_at
--       n then per bucket: key units limit(-1: the limit put for a static key) window
-- Returns {'admit'} (publish it), {'wait', seconds} (parked until its timer),
--   {'drop'} (not QUEUED at this attempt), {'missing', key} (a static key never put:
--   parked, tried again at retry_at), {'over', key, units, limit} (can never start).
local run, timers, index = KEYS[1], KEYS[2], KEYS[3]
local run_id, task, attempt, parked = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, n = tonumber(ARGV[5]), tonumber(ARGV[10])
local f = redis.call('HMGET', run, 's:' .. task, 'a:' .. task, 'rl:' .. task)
if (f[1] ~= 'QUEUED' and f[1] ~= parked) or f[2] ~= attempt then return {'drop'} end
if f[3] == attempt then  -- this attempt holds its reservation already (re-dispatched)
  wake_task(run, timers, run_id, task, parked, ARGV[6])
  return {'admit'}
end
local at, buckets = now, {}
for i = 1, n do
  local key, bucket = ARGV[7 + 4 * i], KEYS[3 + i]
  local units, limit, window = tonumber(ARGV[8 + 4 * i]), tonumber(ARGV[9 + 4 * i]), tonumber(ARGV[10 + 4 * i])
  local b = redis.call('HMGET', bucket, 'limit', 'window', 'tat', 'paused', 'static')
  if limit < 0 then
    if not b[1] then
      park_task(run, task, attempt, parked)
      redis.call('ZADD', timers, ARGV[9], ARGV[8])
      return {'missing', key}
    end
    limit, window = tonumber(b[1]), tonumber(b[2])
  elseif tonumber(b[1] or '-1') ~= limit or tonumber(b[2] or '-1') ~= window then
    redis.call('HSET', bucket, 'key', key, 'limit', limit, 'window', window)
    redis.call('ZADD', index, now, key)
  end
  if units > limit then return {'over', key, units, limit} end
  local tat, paused = tonumber(b[3] or '0'), tonumber(b[4] or '0')
  if tat > at then at = tat end
  if paused > at then at = paused end
  buckets[i] = {bucket, units * window / limit, window, b[5]}
end
for _, b in ipairs(buckets) do
  redis.call('HSET', b[1], 'tat', at + b[2])
  if not b[4] then  -- a dynamic key (one per user, say) is forgotten once idle and full
    redis.call('EXPIRE', b[1], math.ceil(at + b[2] - now + b[3]) + 60)
  end
end
redis.call('HSET', run, 'rl:' .. task, attempt)
if at - now <= 0.001 then
  wake_task(run, timers, run_id, task, parked, ARGV[6])
  return {'admit'}
end
park_task(run, task, attempt, parked)
redis.call('ZADD', timers, at, ARGV[7])
return {'wait', tostring(at - now)}
