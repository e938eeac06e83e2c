-- Cancel one task run of a run: it becomes CANCELLED (a running attempt is stopped by its
-- worker's watchdog), its descendants never run (BLOCKED), and the run finishes when
-- nothing else can happen (CANCELLED, or FAILED if a task failed).
-- KEYS[1] run hash  KEYS[2] leases  KEYS[3] timers  KEYS[4] done channel
--      KEYS[5] status index  KEYS[6] task run index
-- ARGV: run_id now retention task of of_id of_watch of_deadline then descendants
-- Returns {0, status} nothing to do (run gone: '', task not created: 'MISSING', or the
--         task's final status), {1, run_status, previous_status, of_or_''} cancelled.
local run, leases, timers, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_id, now, retention, task = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ix = {status = KEYS[5], tasks = KEYS[6]}
if redis.call('EXISTS', run) == 0 then return {0, ''} end
local status = redis.call('HGET', run, 's:' .. task)
if not status then return {0, 'MISSING'} end
if FINAL_TASK[status] then return {0, status} end
cancel_task_run(run, leases, timers, run_id, task, now)
block_descendants(run, 9, 0)  -- cancel_task_run counted the task itself
local of = maybe_finish(run, timers, done, run_id, now, retention, ARGV[5], ARGV[6], ARGV[7],
  ARGV[8], ix)
return {1, redis.call('HGET', run, 'st'), status, of or ''}
