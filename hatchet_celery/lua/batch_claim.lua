-- The leader's execution of a batch starts: the other members still parked for this
-- batch (WAIT_BATCH, bt:<task> = "<batch_id>|<attempt>") run with it, RUNNING under a
-- claim of their own (as complete.lua and fail.lua expect) with a lease that the leader's
-- execution renews, so a worker lost before it records them hands them back.
-- KEYS[1] leases
-- ARGV[1] run_prefix  ARGV[2] task  ARGV[3] batch_id  ARGV[4] now  ARGV[5] lease_until
-- ARGV[6] worker_id  then per member: run_id attempt
-- Returns, per member, its claim token, or '' when it is no longer in this batch
-- (cancelled, or taken already by an earlier execution of the leader).
local leases = KEYS[1]
local run_prefix, task, batch_id = ARGV[1], ARGV[2], ARGV[3]
local now, lease_until, worker = ARGV[4], ARGV[5], ARGV[6]
local out = {}
for i = 7, #ARGV, 2 do
  local run_id, attempt = ARGV[i], ARGV[i + 1]
  local run = run_prefix .. run_id
  local f = redis.call('HMGET', run, 's:' .. task, 'bt:' .. task)
  if f[1] == 'WAIT_BATCH' and f[2] == batch_id .. '|' .. attempt then
    local claim = redis.call('HINCRBY', run, 'c:' .. task, 1)
    redis.call('HSET', run, 's:' .. task, 'RUNNING', 'b:' .. task, now, 'w:' .. task, worker)
    redis.call('ZADD', leases, lease_until, claim .. '|' .. run_id .. '|' .. task)
    out[#out + 1] = tostring(claim)
  else
    out[#out + 1] = ''
  end
end
return out
