-- Cancel a whole run: every task run not yet final becomes CANCELLED (a running one is
-- stopped by its worker's watchdog, which sees the status change), tasks not yet created
-- never will be, the on-failure task does not run, and the run finishes: CANCELLED (or
-- FAILED when a task had already failed).
-- KEYS[1] run hash  KEYS[2] leases  KEYS[3] timers  KEYS[4] done channel
--      KEYS[5] status index  KEYS[6] task run index
-- ARGV: run_id now retention
-- Returns {0, status} when the run is gone ('') or already finished,
--         {1, run_status, task1, previous_status1, task2, ...} for the tasks cancelled.
local run, leases, timers, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_id, now, retention = ARGV[1], ARGV[2], ARGV[3]
local ix = {status = KEYS[5], tasks = KEYS[6]}
local st = redis.call('HGET', run, 'st')
if not st then return {0, ''} end
if st == 'COMPLETED' or st == 'FAILED' or st == 'CANCELLED' then return {0, st} end
local out = {1, ''}
local fields = redis.call('HGETALL', run)
for i = 1, #fields, 2 do
  local name, status = fields[i], fields[i + 1]
  if string.sub(name, 1, 2) == 's:' and not FINAL_TASK[status] then
    local task = string.sub(name, 3)
    cancel_task_run(run, leases, timers, run_id, task, now)
    out[#out + 1] = task
    out[#out + 1] = status
  end
end
local of = redis.call('HGET', run, 'of')
if of and of ~= '' and not redis.call('HGET', run, 's:' .. of) then
  redis.call('HSET', run, 's:' .. of, 'UNUSED')
end
-- Tasks never created count as done: nothing will create them now.
redis.call('HSET', run, 'd', redis.call('HGET', run, 'n'))
if tonumber(redis.call('HGET', run, 'nc') or '0') == 0 then
  redis.call('HSET', run, 'nc', 1)
end
maybe_finish(run, timers, done, run_id, now, retention, '', '', 0, 0, ix)
out[2] = redis.call('HGET', run, 'st')
return out
