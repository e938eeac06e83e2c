-- Shared helpers; _store.py prepends to each script the ones it uses (`prelude`).
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

-- Listing indexes (hatchet.runs; see _runtime/core/run_index.py). Scripts that create task
-- runs or change a run's status pass ``ix = {status = KEYS[..], tasks = KEYS[..]}``
-- (keys.status_index, keys.task_runs) to queue_task / maybe_finish / index_status. A
-- script that passes nil leaves the index stale; listing repairs what it meets.
local STATUS_RANK = {QUEUED = 1, RUNNING = 2, COMPLETED = 3, FAILED = 4, CANCELLED = 5}

local function status_score(status, ct)
  return STATUS_RANK[status] * 1e13 + math.floor(tonumber(ct) * 1000)
end

-- `ct` (the run's creation time) when the caller read it already; read here otherwise.
local function index_status(ix, run, run_id, status, ct)
  if not ix or not ix.status or not STATUS_RANK[status] then return end
  ct = ct or redis.call('HGET', run, 'ct') or '0'
  redis.call('ZADD', ix.status, status_score(status, ct), run_id)
end

-- `cmd key ...list`, in as many calls as it takes to keep each under Lua's limit on the
-- values one `unpack` may return (8000); `list` holds pairs, so the step is even.
local function call_in_chunks(cmd, key, list)
  for i = 1, #list, 4000 do
    redis.call(cmd, key, unpack(list, i, math.min(i + 3999, #list)))
  end
end

-- A transition's writes, collected while it decides and sent at the end as one command
-- per key (apply_writes): h = run hash field/value pairs, t = timer score/member pairs,
-- i = task run index id/value pairs. One HSET of twelve fields costs Redis about what
-- one HSET of one field does; most of a script's time is per command.
local function new_writes()
  return {h = {}, t = {}, i = {}}
end

local function push(list, ...)
  for _, v in ipairs({...}) do list[#list + 1] = v end
end

local function apply_writes(w, run, timers, ix)
  call_in_chunks('HSET', run, w.h)
  call_in_chunks('ZADD', timers, w.t)
  if ix and ix.tasks then call_in_chunks('HSET', ix.tasks, w.i) end
end

-- The writes that put a task in QUEUED state and arm its watchdog (schedule timeout /
-- redispatch) at `attempt`: 0, or for a task a replay reset, the attempt the replay gave
-- it (field r:<task>), so replayed tasks see retry_count + 1.
local function plan_queue(w, run_id, task, task_run_id, attempt, now, watch_at, deadline)
  push(w.h, 's:' .. task, 'QUEUED', 'a:' .. task, attempt, 'c:' .. task, 0,
    'i:' .. task, task_run_id, 'q:' .. task, now, 'x:' .. task, deadline)
  push(w.t, watch_at, watchdog_member(attempt, run_id, task))
  push(w.i, task_run_id, run_id .. '|' .. task)
end

-- Put a task in QUEUED state now (see plan_queue); returns the attempt it was queued with.
local function queue_task(run, timers, run_id, task, task_run_id, now, watch_at, deadline, ix)
  local attempt = tonumber(redis.call('HGET', run, 'r:' .. task) or '0')
  local w = new_writes()
  plan_queue(w, run_id, task, task_run_id, attempt, now, watch_at, deadline)
  apply_writes(w, run, timers, ix)
  return attempt
end

-- Run fields settle_run decides on, in this order after the caller's own (HMGET them
-- with ``finish_fields(of)`` and pass the values from ``first`` on).
local function finish_fields(of, out)
  push(out, 'n', 'd', 'nf', 'nc', 'ct', 's:' .. of, 'r:' .. of)
  return out
end

-- Decide how the run goes on once `done_delta` more tasks are done and `failed_delta` /
-- `cancelled_delta` more failed or were cancelled (f: the values read by finish_fields,
-- from index `first`): queue the on-failure task (`of`, when declared and the others are
-- done and something failed), mark it UNUSED, or finish the run. Everything goes to `w`;
-- returns {status = final run status or nil, of_attempt = attempt when `of` is queued}.
local function settle_run(w, f, first, run_id, now, done_delta, failed_delta, cancelled_delta,
                          of, of_id, of_watch, of_deadline)
  local n = tonumber(f[first])
  local d = tonumber(f[first + 1] or '0') + done_delta
  local nf = tonumber(f[first + 2] or '0') + failed_delta
  local nc = tonumber(f[first + 3] or '0') + cancelled_delta
  local out = {ct = f[first + 4]}
  if failed_delta > 0 then push(w.h, 'nf', nf) end
  if cancelled_delta > 0 then push(w.h, 'nc', nc) end
  if of ~= '' and d == n - 1 and not f[first + 5] then
    if nf > 0 then
      out.of_attempt = tonumber(f[first + 6] or '0')
      plan_queue(w, run_id, of, of_id, out.of_attempt, now, of_watch, of_deadline)
      push(w.h, 'd', d)
      return out
    end
    push(w.h, 's:' .. of, 'UNUSED')
    d = d + 1
  end
  push(w.h, 'd', d)
  if d >= n then
    out.status = 'COMPLETED'
    if nf > 0 then
      out.status = 'FAILED'
    elseif nc > 0 then
      out.status = 'CANCELLED'
    end
    push(w.h, 'st', out.status, 'ft', now)
  end
  return out
end

-- After apply_writes: index the finished run, start its retention, tell the waiters.
local function announce_finish(settled, ix, run, done, run_id, retention)
  if not settled.status then return end
  index_status(ix, run, run_id, settled.status, settled.ct)
  if tonumber(retention) > 0 then
    redis.call('EXPIRE', run, retention)
  end
  redis.call('PUBLISH', done, run_id)
end

-- Finish the run when every task is terminal; queue the on-failure task first if one
-- is declared and something failed. Returns the on-failure task name when queued.
-- (For scripts that changed the counters already; complete and fail use settle_run.)
local function maybe_finish(run, timers, done, run_id, now, retention, of, of_id, of_watch, of_deadline, ix)
  local f = redis.call('HMGET', run, unpack(finish_fields(of, {})))
  local w = new_writes()
  local settled = settle_run(w, f, 1, run_id, now, 0, 0, 0, of, of_id, of_watch, of_deadline)
  apply_writes(w, run, timers, ix)
  announce_finish(settled, ix, run, done, run_id, retention)
  return settled.of_attempt and of or false
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

-- A task run ended with no output (cancel_task, task_expire): its descendants not created
-- yet (ARGV[first] on) never will be. Marks them BLOCKED and counts them done, plus
-- `counted` tasks the caller ended without counting them.
local function block_descendants(run, first, counted)
  for i = first, #ARGV do
    if not redis.call('HGET', run, 's:' .. ARGV[i]) then
      redis.call('HSET', run, 's:' .. ARGV[i], 'BLOCKED')
      counted = counted + 1
    end
  end
  redis.call('HINCRBY', run, 'd', counted)
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
