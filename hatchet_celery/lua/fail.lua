-- A task run's attempt failed: schedule a retry, or record the failure, block the
-- task's descendants and finish the run when nothing else can happen.
-- KEYS[1] run hash  KEYS[2] leases  KEYS[3] timers  KEYS[4] done channel
--      (optional) KEYS[5] status index
-- ARGV: run_id task claim error now retention retry(0|1) retry_at expected_status
--       final_status(FAILED|CANCELLED) of of_id of_watch of_deadline schedule_timeout
--       then descendants
-- Returns {1, attempt} retry scheduled, {2, run_status, of_or_'', of_attempt} recorded, {-1} stale.
-- Every attempt's error is kept ('ea:<task>:<attempt>'; 'e:<task>' is the latest), so the
-- run page and the task event history can show each failed attempt.
local run, leases, timers, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_id, task, claim, now = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local err, final = ARGV[4], ARGV[10]
local of, of_id, of_watch, of_deadline = ARGV[11], ARGV[12], ARGV[13], ARGV[14]
local ix = {status = KEYS[5]}  -- the task run index was written by create_run
local FIRST_DESCENDANT = 16

local fields = finish_fields(of, {'s:' .. task, 'c:' .. task, 'a:' .. task, 'st'})
local FIRST_STATUS = #fields + 1
for i = FIRST_DESCENDANT, #ARGV do
  fields[#fields + 1] = 's:' .. ARGV[i]
end
local f = redis.call('HMGET', run, unpack(fields))
if f[1] ~= ARGV[9] or f[2] ~= claim then
  return {-1}
end
redis.call('ZREM', leases, claim .. '|' .. run_id .. '|' .. task)
local failed_attempt = f[3] or '0'
if ARGV[7] == '1' then
  local attempt = tonumber(failed_attempt) + 1
  redis.call('HSET', run, 'ea:' .. task .. ':' .. failed_attempt, err, 'a:' .. task, attempt,
    's:' .. task, 'QUEUED', 'e:' .. task, err, 'q:' .. task, ARGV[8],
    'x:' .. task, tonumber(ARGV[8]) + tonumber(ARGV[15]))
  redis.call('ZADD', timers, ARGV[8], dispatch_member(attempt, run_id, task))
  return {1, attempt}
end
redis.call('ZREM', timers, watchdog_member(failed_attempt, run_id, task))
local w = new_writes()
push(w.h, 'ea:' .. task .. ':' .. failed_attempt, err, 's:' .. task, final, 'e:' .. task, err,
  'f:' .. task, now)
local blocked = 1
for i = FIRST_DESCENDANT, #ARGV do
  if not f[FIRST_STATUS + i - FIRST_DESCENDANT] then
    push(w.h, 's:' .. ARGV[i], 'BLOCKED')
    blocked = blocked + 1
  end
end
local failed = final == 'FAILED' and 1 or 0
local settled = settle_run(w, f, 5, run_id, now, blocked, failed, 1 - failed, of, of_id,
  of_watch, of_deadline)
apply_writes(w, run, timers, ix)
announce_finish(settled, ix, run, done, run_id, ARGV[6])
return {2, settled.status or f[4], settled.of_attempt and of or '', settled.of_attempt or 0}
