-- Take a ready task run's units from every rate-limit bucket it names, at one instant.
-- A bucket is Hatchet's: `limit` units per window, full at the start of each window and
-- refilled to `limit` when the next one starts (10 per minute with units 3: three runs
-- start at once, the fourth at the next window). Windows are counted from the bucket's
-- `origin` (when it was made), in whole milliseconds. A task run that cannot start now
-- reserves its units in the first window where every bucket has them (first come, first
-- served) and waits, parked (no slot held), on a timer at that instant.
-- KEYS[1] run hash  KEYS[2] timers  KEYS[3] rate-limit index  KEYS[4..] buckets
-- ARGV: run_id task attempt parked_status now watch_at wake_member retry_member retry_at
--       n then per bucket: key units limit(-1: the limit put for a static key) window(s)
-- Bucket hash: key limit window(s) static paused(s) | origin(ms) w (index of the current
--   window) value (units left in it) rw (the furthest window holding reservations)
--   r:<j> (units reserved in a later window j; dropped once window j has begun).
-- Returns {'admit'} (publish it), {'wait', seconds} (parked until its timer),
--   {'drop'} (not QUEUED at this attempt), {'missing', key} (a static key never put:
--   parked, tried again at retry_at), {'over', key, units, limit} (can never start).
local run, timers, index = KEYS[1], KEYS[2], KEYS[3]
local run_id, task, attempt, parked = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now_s, watch_at = tonumber(ARGV[5]), ARGV[6]
local wake_member, retry_member, retry_at = ARGV[7], ARGV[8], ARGV[9]
local n = tonumber(ARGV[10])
local now = math.floor(now_s * 1000 + 0.5)

local f = redis.call('HMGET', run, 's:' .. task, 'a:' .. task, 'rl:' .. task)
if (f[1] ~= 'QUEUED' and f[1] ~= parked) or f[2] ~= attempt then return {'drop'} end
if f[3] == attempt then  -- this attempt holds its reservation already (re-dispatched)
  wake_task(run, timers, run_id, task, parked, watch_at)
  return {'admit'}
end

-- Units left in window `j` of bucket `b` (j >= b.w).
local function avail(b, j)
  if j == b.w then return b.value end
  if j > b.rw then return b.limit end
  return b.limit - tonumber(redis.call('HGET', b.key, 'r:' .. j) or '0')
end

-- The earliest instant >= t (ms) at which bucket `b` has `units` left.
local function earliest(b, units, t)
  local j = math.floor((t - b.origin) / b.span)
  if avail(b, j) >= units then return t end
  repeat j = j + 1 until avail(b, j) >= units  -- ends at b.rw + 1 at the latest
  return b.origin + j * b.span
end

local at, buckets = now, {}
for i = 1, n do
  local key, bucket = ARGV[7 + 4 * i], KEYS[3 + i]
  local units, limit, window = tonumber(ARGV[8 + 4 * i]), tonumber(ARGV[9 + 4 * i]), tonumber(ARGV[10 + 4 * i])
  local h = redis.call('HMGET', bucket, 'limit', 'window', 'origin', 'w', 'value', 'rw', 'paused', 'static')
  if limit < 0 then
    if not h[1] then
      park_task(run, task, attempt, parked)
      redis.call('ZADD', timers, retry_at, retry_member)
      return {'missing', key}
    end
    limit, window = tonumber(h[1]), tonumber(h[2])
  end
  if units > limit then return {'over', key, units, limit} end
  local b = {key = bucket, name = key, units = units, limit = limit,
             span = math.floor(window * 1000), static = h[8], fresh = not h[3]}
  if b.fresh or tonumber(h[2]) ~= window then  -- new, or its window changed: windows from now
    b.value = b.fresh and limit or math.min(limit, tonumber(h[5]))
    b.origin, b.w, b.rw, b.fresh = now, 0, 0, true
    for _, field in ipairs(redis.call('HKEYS', bucket)) do
      if string.sub(field, 1, 2) == 'r:' then redis.call('HDEL', bucket, field) end
    end
  else
    b.origin, b.w, b.value, b.rw = tonumber(h[3]), tonumber(h[4]), tonumber(h[5]), tonumber(h[6])
    local j = math.floor((now - b.origin) / b.span)
    if j > b.w then  -- a later window began: the bucket is full, but for its reservations
      b.value = avail(b, j)
      for k = b.w + 1, math.min(j, b.rw) do redis.call('HDEL', bucket, 'r:' .. k) end
      b.w = j
      if b.rw < j then b.rw = j end
    end
    if limit < tonumber(h[1]) then  -- a lower limit caps what is left, as Hatchet's upsert
      b.value = math.min(b.value, limit)
    end
  end
  local paused = math.floor(tonumber(h[7] or '0') * 1000 + 0.5)
  if paused > at then at = paused end
  buckets[i] = b
end

-- The first instant at which every bucket has the units: each bucket's earliest instant
-- from the latest found so far, until they agree (windows differ between buckets).
repeat
  local moved = false
  for _, b in ipairs(buckets) do
    local t = earliest(b, b.units, at)
    if t > at then at, moved = t, true end
  end
until not moved

for _, b in ipairs(buckets) do
  local j = math.floor((at - b.origin) / b.span)
  if j == b.w then
    b.value = b.value - b.units
  else
    redis.call('HINCRBY', b.key, 'r:' .. j, b.units)
    if j > b.rw then b.rw = j end
  end
  redis.call('HSET', b.key, 'key', b.name, 'limit', b.limit, 'window', b.span / 1000,
             'origin', b.origin, 'w', b.w, 'value', b.value, 'rw', b.rw)
  redis.call('HDEL', b.key, 'tat')  -- the pacing state of earlier versions
  if not b.static then  -- a dynamic key (one per user, say) is forgotten once idle and full
    redis.call('EXPIRE', b.key, math.ceil((b.origin + (b.rw + 1) * b.span - now) / 1000) + 60)
  end
  if b.fresh then redis.call('ZADD', index, now_s, b.name) end
end
redis.call('HSET', run, 'rl:' .. task, attempt)
if at <= now then
  wake_task(run, timers, run_id, task, parked, watch_at)
  return {'admit'}
end
park_task(run, task, attempt, parked)
redis.call('ZADD', timers, at / 1000, wake_member)
return {'wait', tostring((at - now) / 1000)}
