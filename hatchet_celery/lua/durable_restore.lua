-- Restore an evicted durable task run: drop its pending wait (sleep timers, event
-- waiters, met conditions) and queue it again; the worker that claims it replays the
-- function from its checkpoints and registers the wait again, anchored at the time the
-- wait first started (ct:<task>:<node>), so a sleep still ends when it would have.
-- Only an evicted task run (SUSPENDED, ev:<task> = its claim) is restored: restoring
-- twice, or a task run that is not evicted, changes nothing.
-- KEYS[1] run hash  KEYS[2] timers
--      KEYS[3..] the event waiter hashes of the wait's event conditions, in spec order
-- ARGV[1] run_id  ARGV[2] task  ARGV[3] wait_seen (the cw:<task> the caller read, '' none)
--      ARGV[4] now  ARGV[5] redispatch_seconds  ARGV[6] schedule_timeout (no wait spec)
-- Returns {0, status} not evicted; {2} the wait changed since the caller read it (read
--         again); {1, attempt, workflow, priority, parent_task_run_id} queued.
local run, timers = KEYS[1], KEYS[2]
local run_id, task, seen = ARGV[1], ARGV[2], ARGV[3]
local now, redispatch, sched = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

local f = redis.call('HMGET', run, 's:' .. task, 'c:' .. task, 'ev:' .. task, 'cw:' .. task)
if f[1] ~= 'SUSPENDED' or not f[3] or f[3] ~= f[2] then return {0, f[1] or ''} end
if (f[4] or '') ~= seen then return {2} end

if f[4] then
  local spec = cjson.decode(f[4])
  if spec.sched then sched = tonumber(spec.sched) end
  local k = 3
  for _, c in ipairs(spec.conds) do
    redis.call('HDEL', run, 'cv:' .. task .. ':' .. c.id)
    if c.kind == 'sleep' then
      redis.call('ZREM', timers, c.m)
    elseif c.ek and c.ek ~= '' then
      redis.call('HDEL', KEYS[k], c.m)
      k = k + 1
    end
  end
  redis.call('HDEL', run, 'cw:' .. task)
end
redis.call('HDEL', run, 'ev:' .. task, 'er:' .. task, 'ew:' .. task)
redis.call('ZREM', timers, 'dvc|' .. run_id .. '|' .. task)

local attempt = redis.call('HGET', run, 'a:' .. task) or '0'
local deadline = now + sched
redis.call('HSET', run, 's:' .. task, 'QUEUED', 'q:' .. task, now, 'x:' .. task, deadline)
redis.call('ZADD', timers, math.min(now + redispatch, deadline),
  watchdog_member(attempt, run_id, task))
local info = redis.call('HMGET', run, 'wf', 'pr', 'ptr')
return {1, attempt, info[1] or '', info[2] or '', info[3] or ''}
