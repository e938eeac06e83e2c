-- Shared helpers, prepended to every script by hatchet_celery/_store.py.
-- A run is one hash (see _keys.py). Task fields are "<f>:<task>":
--   s status (QUEUED RUNNING COMPLETED FAILED CANCELLED SKIPPED BLOCKED), a attempt,
--   c claim token, i task run id, q queued at, b began, f finished, w worker,
--   o output JSON, e error JSON, n fan-in count, x schedule deadline.
-- Run fields: wf st in md pr ct bt ft n (tasks) d (tasks done) nf nc of (on-failure task).

local function watchdog_member(attempt, run_id, task)
  return 'w|' .. attempt .. '|' .. run_id .. '|' .. task
end

local function dispatch_member(attempt, run_id, task)
  return 'd|' .. attempt .. '|' .. run_id .. '|' .. task
end

-- Put a task in QUEUED state and arm its watchdog (schedule timeout / redispatch).
local function queue_task(run, timers, run_id, task, task_run_id, now, watch_at, deadline)
  redis.call('HSET', run, 's:' .. task, 'QUEUED', 'a:' .. task, 0, 'c:' .. task, 0,
    'i:' .. task, task_run_id, 'q:' .. task, now, 'x:' .. task, deadline)
  redis.call('ZADD', timers, watch_at, watchdog_member(0, run_id, task))
end

-- Finish the run when every task is terminal; queue the on-failure task first if one
-- is declared and something failed. Returns the on-failure task name when queued.
local function maybe_finish(run, timers, done, run_id, now, retention, of, of_id, of_watch, of_deadline)
  local n = tonumber(redis.call('HGET', run, 'n'))
  local d = tonumber(redis.call('HGET', run, 'd'))
  if of ~= '' and d == n - 1 and not redis.call('HGET', run, 's:' .. of) then
    if tonumber(redis.call('HGET', run, 'nf') or '0') > 0 then
      queue_task(run, timers, run_id, of, of_id, now, of_watch, of_deadline)
      return of
    end
    redis.call('HSET', run, 's:' .. of, 'UNUSED')
    d = redis.call('HINCRBY', run, 'd', 1)
  end
  if d >= n then
    local status = 'COMPLETED'
    if tonumber(redis.call('HGET', run, 'nf') or '0') > 0 then
      status = 'FAILED'
    elseif tonumber(redis.call('HGET', run, 'nc') or '0') > 0 then
      status = 'CANCELLED'
    end
    redis.call('HSET', run, 'st', status, 'ft', now)
    if tonumber(retention) > 0 then
      redis.call('EXPIRE', run, retention)
    end
    redis.call('PUBLISH', done, run_id)
  end
  return false
end
