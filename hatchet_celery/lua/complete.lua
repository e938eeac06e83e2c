-- Record a task run's output and release the children whose parents are all done.
-- KEYS[1] run hash  KEYS[2] leases  KEYS[3] timers  KEYS[4] done channel
--      (optional) KEYS[5] status index  KEYS[6] paused workflows (keys.paused)
-- ARGV: run_id task claim output now retention status(COMPLETED|SKIPPED)
--       of of_id of_watch of_deadline nchildren
--       then per child: name nparents task_run_id watch_at deadline
-- Returns {1, run_status, paused, child1, id1, attempt1, ...} or {-1} when the claim is
-- stale. paused: 0 when the workflow was not paused as the children were queued (read
-- with KEYS[6], so the pause gate need not look again), 1 when it was or was not read.
-- One HMGET reads every counter it decides on and one HSET writes the outcome, the
-- fan-in counters and the children queued: four commands when a child is released
-- (HMGET HSET ZREM ZADD), seven when the run finishes.
local run, leases, timers, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_id, task, claim, now = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local of, of_id, of_watch, of_deadline = ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local ix = {status = KEYS[5]}  -- the task run index was written by create_run
local FIRST_CHILD, nchildren = 13, tonumber(ARGV[12])
local LAST_CHILD = FIRST_CHILD + (nchildren - 1) * 5

local fields = finish_fields(of, {'s:' .. task, 'c:' .. task, 'st', 'wf'})
local FIRST_COUNTER = #fields + 1
for i = FIRST_CHILD, LAST_CHILD, 5 do
  push(fields, 'n:' .. ARGV[i], 's:' .. ARGV[i], 'r:' .. ARGV[i])
end
local f = redis.call('HMGET', run, unpack(fields))
if f[1] ~= 'RUNNING' or f[2] ~= claim then
  return {-1}
end
local w = new_writes()
push(w.h, 's:' .. task, ARGV[7], 'o:' .. task, ARGV[4], 'f:' .. task, now)
local out = {1, f[3], 1}
for i = FIRST_CHILD, LAST_CHILD, 5 do
  local at = FIRST_COUNTER + (i - FIRST_CHILD) / 5 * 3
  local child, count = ARGV[i], tonumber(f[at] or '0') + 1
  push(w.h, 'n:' .. child, count)
  if count == tonumber(ARGV[i + 1]) and not f[at + 1] then
    local attempt = tonumber(f[at + 2] or '0')
    plan_queue(w, run_id, child, ARGV[i + 2], attempt, now, ARGV[i + 3], ARGV[i + 4])
    push(out, child, ARGV[i + 2], attempt)
  end
end
local settled = settle_run(w, f, 5, run_id, now, 1, 0, 0, of, of_id, of_watch, of_deadline)
apply_writes(w, run, timers, ix)
redis.call('ZREM', leases, claim .. '|' .. run_id .. '|' .. task)
announce_finish(settled, ix, run, done, run_id, ARGV[6])
if settled.of_attempt then
  push(out, of, of_id, settled.of_attempt)
end
out[2] = settled.status or f[3]
if #out > 3 and KEYS[6] and redis.call('HEXISTS', KEYS[6], f[4]) == 0 then
  out[3] = 0
end
return out
