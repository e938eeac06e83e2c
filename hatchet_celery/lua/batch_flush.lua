-- The batch buffer of one group of a batch task: park ready members in it, and flush it
-- into a batch when it is full (or, for the flush timer, whatever it holds). Adding and
-- taking are one step, so two processes adding at once never both see a full buffer.
-- A parked member is WAIT_BATCH (never claimed, ignored by the watchdog). A flush makes
-- a batch of the oldest members still parked and queues its first one, the leader,
-- whose execution runs the whole batch; the others stay WAIT_BATCH, marked
-- bt:<task> = "<batch_id>|<attempt>", until the leader's execution records them
-- (batch_claim.lua, then complete.lua / fail.lua).
-- KEYS[1] buffer list (members "run_id|attempt|bytes", oldest first)
-- KEYS[2] buffer byte count  KEYS[3] timers  KEYS[4] list of the new batch's members
-- KEYS[5] the group's running batches (zset: batch id by the time it is presumed lost)
-- ARGV[1] run_prefix  ARGV[2] task  ARGV[3] now  ARGV[4] watch_at  ARGV[5] max_size
-- ARGV[6] max_bytes  ARGV[7] interval seconds ('' none)  ARGV[8] flush timer member
-- ARGV[9] retention  ARGV[10] batch_id  ARGV[11] force (1: flush even if not full)
-- ARGV[12] max_runs ('' no limit: at most that many batches of the group run at once)
-- ARGV[13] lost_after (seconds after which a running batch no longer counts)
--      then per member to park first: run_id attempt bytes
-- The flush timer is set when the buffer gets its first member (its arrival + interval),
-- removed when the buffer is emptied, and set to now + interval when members are left;
-- a flush held back by max_runs looks again a second later (and when a batch ends).
-- Returns {count, leader_run_id, leader_task_run_id, leader_attempt, priority, more}:
-- count 0 when no batch was made; more = 1 when a full buffer is left (flush again).
local buffer, bytes, timers, batch = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_prefix, task, now, watch_at = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local max_size, max_bytes = tonumber(ARGV[5]), tonumber(ARGV[6])
local interval, member, retention = ARGV[7], ARGV[8], tonumber(ARGV[9])
local batch_id, force = ARGV[10], ARGV[11] == '1'
local running, max_runs, lost_after = KEYS[5], tonumber(ARGV[12]), tonumber(ARGV[13])

local function full()
  return redis.call('LLEN', buffer) >= max_size
    or tonumber(redis.call('GET', bytes) or '0') >= max_bytes
end

for i = 14, #ARGV, 3 do
  local run_id, attempt, size = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if park_task(run_prefix .. run_id, task, attempt, 'WAIT_BATCH') then
    redis.call('RPUSH', buffer, run_id .. '|' .. attempt .. '|' .. size)
    redis.call('INCRBY', bytes, size)
    if interval ~= '' then
      redis.call('ZADD', timers, 'NX', now + tonumber(interval), member)
    end
  end
end
if not force and not full() then return {0, '', '', '', '', 0} end
if max_runs then
  redis.call('ZREMRANGEBYSCORE', running, '-inf', now)
  if redis.call('ZCARD', running) >= max_runs then
    redis.call('ZADD', timers, now + 1, member)  -- in case no batch ends here (lost)
    return {0, '', '', '', '', 0}
  end
end

local taken, size = {}, 0
while #taken < max_size and (#taken == 0 or size < max_bytes) do
  local entry = redis.call('LPOP', buffer)
  if not entry then break end
  local run_id, attempt, n = string.match(entry, '^(.*)|([^|]*)|([^|]*)$')
  redis.call('DECRBY', bytes, n)
  local f = redis.call('HMGET', run_prefix .. run_id, 's:' .. task, 'a:' .. task)
  if f[1] == 'WAIT_BATCH' and f[2] == attempt then
    taken[#taken + 1] = {run_id, attempt}
    size = size + tonumber(n)
    redis.call('HSET', run_prefix .. run_id, 'bt:' .. task, batch_id .. '|' .. attempt)
    redis.call('RPUSH', batch, run_id .. '|' .. attempt)
  end
end

local more = 0
if redis.call('LLEN', buffer) == 0 then
  redis.call('DEL', bytes)
  redis.call('ZREM', timers, member)
elseif full() then
  more = 1
elseif interval ~= '' then
  redis.call('ZADD', timers, now + tonumber(interval), member)
end
if #taken == 0 then return {0, '', '', '', '', more} end
redis.call('EXPIRE', batch, math.max(60, math.floor(retention)))
if max_runs then
  redis.call('ZADD', running, now + lost_after, batch_id)
  redis.call('EXPIRE', running, math.floor(lost_after) + 60)
  if redis.call('ZCARD', running) >= max_runs then more = 0 end
end

local leader = run_prefix .. taken[1][1]
local woken = wake_task(leader, timers, taken[1][1], task, 'WAIT_BATCH', watch_at)
local priority = redis.call('HGET', leader, 'pr') or ''
return {#taken, taken[1][1], woken[1], woken[2], priority, more}
