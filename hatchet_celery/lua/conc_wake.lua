-- Wake the parked tasks of a holder a concurrency gate admitted: back to QUEUED.
-- KEYS[1] run hash  KEYS[2] timers
-- ARGV: run_id parked_status watch_at scope('run'|'task') then task names
-- Returns {alive, priority, task1, task_run_id1, attempt1, ...}. alive = 0 when nothing of
-- the holder can run any more (run gone or finished; task final): release the holder.
local run, timers = KEYS[1], KEYS[2]
local run_id, parked, watch_at, scope = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local f = redis.call('HMGET', run, 'st', 'pr')
local st = f[1]
local alive = 1
if not st or st == 'COMPLETED' or st == 'FAILED' or st == 'CANCELLED' then alive = 0 end
local out = {alive, f[2] or ''}
for i = 5, #ARGV do
  local task = ARGV[i]
  if scope == 'task' then
    local s = redis.call('HGET', run, 's:' .. task)
    if not s or FINAL_TASK[s] then out[1] = 0 end
  end
  local woken = wake_task(run, timers, run_id, task, parked, watch_at)
  if woken then
    out[#out + 1] = task
    out[#out + 1] = woken[1]
    out[#out + 1] = woken[2]
  end
end
return out
