-- A task run waited past its schedule deadline without being started: it fails with
-- SCHEDULING_TIMED_OUT (no retry, as Hatchet's engine does), its descendants never run
-- (BLOCKED), and the run finishes when nothing else can happen. Any process may call it
-- (a worker's timer pump, a process waiting on the run): it checks the deadline itself,
-- so a call that comes too early, twice, or after the task moved on changes nothing.
-- KEYS[1] run hash  KEYS[2] timers  KEYS[3] done channel  KEYS[4] status index
--      KEYS[5] task run index
-- ARGV: run_id task attempt now retention error_json of of_id of_watch of_deadline
--       then descendants
-- Returns {0} nothing to do, {1, run_status, of_or_''} failed.
local run, timers, done = KEYS[1], KEYS[2], KEYS[3]
local ix = {status = KEYS[4], tasks = KEYS[5]}
local run_id, task, attempt, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local retention, error_json = ARGV[5], ARGV[6]
local of, of_id, of_watch, of_deadline = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local FIRST_DESCENDANT = 11
-- Waiting to be started: queued, or held back by a rate limit or for want of a worker.
-- (A concurrency waiter is failed by its gate's sweep, which also drops it from the queue.)
local NOT_STARTED = {QUEUED = true, WAIT_RATE_LIMIT = true, WAIT_WORKER = true}

local f = redis.call('HMGET', run, 's:' .. task, 'a:' .. task, 'x:' .. task)
if not NOT_STARTED[f[1]] or f[2] ~= attempt then return {0} end
local deadline = tonumber(f[3] or '0')
if deadline <= 0 or tonumber(now) < deadline then return {0} end

redis.call('ZREM', timers, watchdog_member(attempt, run_id, task),
  dispatch_member(attempt, run_id, task))
redis.call('HSET', run, 's:' .. task, 'FAILED', 'e:' .. task, error_json, 'f:' .. task, now)
redis.call('HINCRBY', run, 'nf', 1)
block_descendants(run, FIRST_DESCENDANT, 1)  -- and the task run itself
local queued_of = maybe_finish(run, timers, done, run_id, now, retention, of, of_id, of_watch,
  of_deadline, ix)
return {1, redis.call('HGET', run, 'st'), queued_of or ''}
