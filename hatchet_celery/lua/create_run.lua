-- Create a workflow run and queue its root tasks; dedupe child runs by key; take the
-- run's idempotency key (all or nothing: a run whose key is held is not created).
-- KEYS[1] run hash  KEYS[2] runs index  KEYS[3] timers  KEYS[4] parent run hash (or KEYS[1])
--      KEYS[5] idempotency key (keys.idempotency; KEYS[1] when the workflow has none)
--      optional: KEYS[6] status index  KEYS[7] task run index  KEYS[8] index registry
--      KEYS[9..] listing indexes the run joins (run_index.listing_keys)
-- ARGV: run_id wf input metadata priority now ntasks on_failure parent_run_id
--       parent_task dedupe_field parent_task_run_id child_index child_key defer
--       idem_method ('' | TTL | STATUS) idem_ttl_ms run_prefix
--       then per root task: name task_run_id watch_at deadline
-- defer = 1: the caller cannot publish (it lacks the task code, so it cannot apply the
-- gates): the roots get a due dispatch timer and a worker's pump dispatches them.
-- Idempotency: the key holds "<run_id>|<method>" and expires after idem_ttl_ms (Redis's
-- clock). A STATUS key whose run has finished (or expired) is free again: the holder's
-- status is read here, in the same step, so a run that just finished never collides.
-- The run hash, its roots and their watchdog timers are one HSET and one ZADD.
-- Returns {1} when created, {0, existing_run_id, its workflow} when the dedupe key is
-- taken (the caller checks a replay spawned the same workflow), {0, run_id} when the run
-- exists, {2, holder_run_id} when the idempotency key is held.
local run, index, timers, parent, idem = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local run_id, now = ARGV[1], ARGV[6]
local dedupe, defer = ARGV[11], ARGV[15]
local idem_method, idem_ttl_ms, run_prefix = ARGV[16], ARGV[17], ARGV[18]
local ix = {status = KEYS[6], tasks = KEYS[7]}
local FIRST_ROOT = 19
local FINAL_RUN = {COMPLETED = true, FAILED = true, CANCELLED = true}

if dedupe ~= '' then
  local existing = redis.call('HGET', parent, dedupe)
  if existing then
    return {0, existing, redis.call('HGET', run_prefix .. existing, 'wf') or ''}
  end
end
if redis.call('EXISTS', run) == 1 then
  return {0, run_id}
end
if idem_method ~= '' then
  local held = redis.call('GET', idem)
  if held then
    local sep = string.find(held, '|', 1, true)
    local holder, method = string.sub(held, 1, sep - 1), string.sub(held, sep + 1)
    local live = true
    if method == 'STATUS' then
      local st = redis.call('HGET', run_prefix .. holder, 'st')
      live = st ~= false and not FINAL_RUN[st]
    end
    if live then
      return {2, holder}
    end
  end
  redis.call('SET', idem, run_id .. '|' .. idem_method, 'PX', idem_ttl_ms)
end
if dedupe ~= '' then
  redis.call('HSET', parent, dedupe, run_id)
end

local w = new_writes()
push(w.h, 'wf', ARGV[2], 'in', ARGV[3], 'md', ARGV[4], 'pr', ARGV[5],
  'ct', now, 'st', 'QUEUED', 'n', ARGV[7], 'd', 0, 'nf', 0, 'nc', 0, 'of', ARGV[8],
  'par', ARGV[9], 'ptask', ARGV[10], 'ptr', ARGV[12], 'ci', ARGV[13], 'ck', ARGV[14])
for i = FIRST_ROOT, #ARGV, 4 do
  plan_queue(w, run_id, ARGV[i], ARGV[i + 1], 0, now, ARGV[i + 2], ARGV[i + 3])
  if defer == '1' then
    push(w.t, now, dispatch_member(0, run_id, ARGV[i]))
  end
end
apply_writes(w, run, timers, ix)
redis.call('ZADD', index, now, run_id)
index_status(ix, run, run_id, 'QUEUED', now)
for i = 9, #KEYS do
  redis.call('ZADD', KEYS[i], now, run_id)
end
if #KEYS >= 9 then
  redis.call('SADD', KEYS[8], unpack(KEYS, 9))
end
return {1}
