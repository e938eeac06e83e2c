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

-- Listing indexes (hatchet.runs; see _runtime/ops/run_index.py). Scripts that create task
-- runs or change a run's status pass ``ix = {status = KEYS[..], tasks = KEYS[..]}``
-- (keys.status_index, keys.task_runs) to queue_task / maybe_finish / index_status. A
-- script that passes nil leaves the index stale; listing repairs what it meets.
local STATUS_RANK = {QUEUED = 1, RUNNING = 2, COMPLETED = 3, FAILED = 4, CANCELLED = 5}

local function index_status(ix, run, run_id, status)
  local rank = STATUS_RANK[status]
  if not ix or not ix.status or not rank then return end
  local ct = tonumber(redis.call('HGET', run, 'ct') or '0')
  redis.call('ZADD', ix.status, rank * 1e13 + math.floor(ct * 1000), run_id)
end

-- Put a task in QUEUED state and arm its watchdog (schedule timeout / redispatch).
-- Returns the attempt it was queued with: 0, or for a task a replay reset, the attempt
-- the replay gave it (field r:<task>), so replayed tasks see retry_count + 1.
local function queue_task(run, timers, run_id, task, task_run_id, now, watch_at, deadline, ix)
  local attempt = tonumber(redis.call('HGET', run, 'r:' .. task) or '0')
  redis.call('HSET', run, 's:' .. task, 'QUEUED', 'a:' .. task, attempt, 'c:' .. task, 0,
    'i:' .. task, task_run_id, 'q:' .. task, now, 'x:' .. task, deadline)
  redis.call('ZADD', timers, watch_at, watchdog_member(attempt, run_id, task))
  if ix and ix.tasks then
    redis.call('HSET', ix.tasks, task_run_id, run_id .. '|' .. task)
  end
  return attempt
end

-- Finish the run when every task is terminal; queue the on-failure task first if one
-- is declared and something failed. Returns the on-failure task name when queued.
local function maybe_finish(run, timers, done, run_id, now, retention, of, of_id, of_watch, of_deadline, ix)
  local n = tonumber(redis.call('HGET', run, 'n'))
  local d = tonumber(redis.call('HGET', run, 'd'))
  if of ~= '' and d == n - 1 and not redis.call('HGET', run, 's:' .. of) then
    if tonumber(redis.call('HGET', run, 'nf') or '0') > 0 then
      queue_task(run, timers, run_id, of, of_id, now, of_watch, of_deadline, ix)
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
    index_status(ix, run, run_id, status)
    if tonumber(retention) > 0 then
      redis.call('EXPIRE', run, retention)
    end
    redis.call('PUBLISH', done, run_id)
  end
  return false
end

-- Task statuses after which nothing more happens to a task run (until a replay).
local FINAL_TASK = {COMPLETED = true, SKIPPED = true, FAILED = true, CANCELLED = true,
  BLOCKED = true, UNUSED = true}

-- Cancel one task run that is not final (cancel_*.lua): release its lease and timers; its
-- worker's watchdog sees the status change and stops the attempt. Counts it done.
local function cancel_task_run(run, leases, timers, run_id, task, now)
  local f = redis.call('HMGET', run, 'a:' .. task, 'c:' .. task)
  local attempt, claim = f[1] or '0', f[2] or '0'
  redis.call('ZREM', leases, claim .. '|' .. run_id .. '|' .. task)
  redis.call('ZREM', timers, watchdog_member(attempt, run_id, task),
    dispatch_member(attempt, run_id, task))
  redis.call('HSET', run, 's:' .. task, 'CANCELLED', 'f:' .. task, now)
  redis.call('HINCRBY', run, 'nc', 1)
  redis.call('HINCRBY', run, 'd', 1)
end

-- Flow control (conc_*, rl_*, aff_*.lua): a gate that holds back a ready task run moves it
-- from QUEUED to its own waiting status (WAIT_CONCURRENCY, WAIT_RATE_LIMIT, WAIT_WORKER),
-- so neither the watchdog nor a stray message starts it, and back to QUEUED when it may
-- start. Both are no-ops on a task run that moved on (other attempt, cancelled...).
local function park_task(run, task, attempt, status)
  local f = redis.call('HMGET', run, 's:' .. task, 'a:' .. task)
  if (f[1] ~= 'QUEUED' and f[1] ~= status) or f[2] ~= attempt then return false end
  redis.call('HSET', run, 's:' .. task, status)
  return true
end

-- Returns {task_run_id, attempt} when woken, false when it was not parked with `status`.
local function wake_task(run, timers, run_id, task, status, watch_at)
  local f = redis.call('HMGET', run, 's:' .. task, 'a:' .. task, 'i:' .. task, 'x:' .. task)
  if f[1] ~= status then return false end
  local at, deadline = tonumber(watch_at), tonumber(f[4] or '0')
  if deadline > 0 and deadline < at then at = deadline end
  redis.call('HSET', run, 's:' .. task, 'QUEUED')
  redis.call('ZADD', timers, at, watchdog_member(f[2], run_id, task))
  return {f[3] or '', f[2]}
end

-- Concurrency gates (conc_*.lua). The gate hash holds ``c:<i>:<key>`` (holders of key
-- `key` of expression `i`), ``m:<i>:<key>`` (its max_runs), ``h:<holder>`` and
-- ``w:<holder>`` (JSON {k = keys by expression, s = arrival seq}) and ``seq``. Queue and
-- held sets are lex-ordered: "<i>:<#key>:<key>:<seq 16 digits>:<holder>", so the entries
-- of one key are one range, oldest first.
local function conc_prefix(i, key)
  return i .. ':' .. #key .. ':' .. key .. ':'
end

local function conc_range(set, i, key, limit)
  local p = conc_prefix(i, key)
  return redis.call('ZRANGEBYLEX', set, '[' .. p, '[' .. p .. '\255', 'LIMIT', 0, limit), #p
end

local function conc_entry(i, key, seq, holder)
  return conc_prefix(i, key) .. string.format('%016d', seq) .. ':' .. holder
end

local function conc_count(state, i, key)
  return tonumber(redis.call('HGET', state, 'c:' .. i .. ':' .. key) or '0')
end

local function conc_max(state, i, key)
  return tonumber(redis.call('HGET', state, 'm:' .. i .. ':' .. key) or '1')
end

local function conc_fits(state, rec)
  for i, key in ipairs(rec.k) do
    if conc_count(state, i, key) >= conc_max(state, i, key) then return false end
  end
  return true
end

local function conc_hold(state, held, holder, rec)
  for i, key in ipairs(rec.k) do
    redis.call('HINCRBY', state, 'c:' .. i .. ':' .. key, 1)
    redis.call('ZADD', held, 0, conc_entry(i, key, rec.s, holder))
  end
  redis.call('HSET', state, 'h:' .. holder, cjson.encode(rec))
end

-- Remove a holder (`kind` 'h', from `set` = held) or a waiter ('w', `set` = queue).
local function conc_drop(state, set, kind, holder)
  local raw = redis.call('HGET', state, kind .. ':' .. holder)
  if not raw then return false end
  local rec = cjson.decode(raw)
  for i, key in ipairs(rec.k) do
    redis.call('ZREM', set, conc_entry(i, key, rec.s, holder))
    if kind == 'h' and redis.call('HINCRBY', state, 'c:' .. i .. ':' .. key, -1) <= 0 then
      redis.call('HDEL', state, 'c:' .. i .. ':' .. key)
    end
  end
  redis.call('HDEL', state, kind .. ':' .. holder)
  return rec
end

-- Admit, oldest first, the waiters of one key that now fit under every key they need.
local function conc_scan(state, queue, held, i, key, limit, out)
  local entries, plen = conc_range(queue, i, key, limit)
  for _, e in ipairs(entries) do
    if conc_count(state, i, key) >= conc_max(state, i, key) then break end
    local holder = string.sub(e, plen + 18)
    local raw = redis.call('HGET', state, 'w:' .. holder)
    if not raw then
      redis.call('ZREM', queue, e)
    else
      local rec = cjson.decode(raw)
      if conc_fits(state, rec) then
        conc_drop(state, queue, 'w', holder)
        conc_hold(state, held, holder, rec)
        out[#out + 1] = holder
      end
    end
  end
end
