-- Flush a batch buffer: take up to max_size members still parked for it (oldest first)
-- into a new batch, and queue its first member, the leader, whose execution runs the
-- whole batch. The others stay WAIT_BATCH, marked bt:<task> = "<batch_id>|<attempt>",
-- until the leader's execution records them (batch_claim.lua, then complete / fail).
-- KEYS[1] buffer list  KEYS[2] buffer byte count  KEYS[3] timers  KEYS[4] batch list
-- ARGV[1] run_prefix  ARGV[2] task  ARGV[3] max_size  ARGV[4] now  ARGV[5] watch_at
-- ARGV[6] interval seconds ('' none)  ARGV[7] flush timer member  ARGV[8] retention
-- ARGV[9] batch_id  ARGV[10] max_bytes
-- The flush timer is removed when the buffer is empty, and set to now + interval when
-- members are left (a full buffer left over is reported: the caller flushes again).
-- Returns {count, leader_run_id, leader_task_run_id, leader_attempt, priority, more}.
local buffer, bytes, timers, batch = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_prefix, task, max_size = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now, watch_at, interval, member = tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local retention, batch_id, max_bytes = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])

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

local left = redis.call('LLEN', buffer)
local more = 0
if left == 0 then
  redis.call('DEL', bytes)
  redis.call('ZREM', timers, member)
elseif left >= max_size or tonumber(redis.call('GET', bytes) or '0') >= max_bytes then
  more = 1
elseif interval ~= '' then
  redis.call('ZADD', timers, now + tonumber(interval), member)
end
if #taken == 0 then return {0, '', '', '', '', more} end
redis.call('EXPIRE', batch, math.max(60, math.floor(retention)))

local leader = run_prefix .. taken[1][1]
local woken = wake_task(leader, timers, taken[1][1], task, 'WAIT_BATCH', watch_at)
local priority = redis.call('HGET', leader, 'pr') or ''
return {#taken, taken[1][1], woken[1], woken[2], priority, more}
