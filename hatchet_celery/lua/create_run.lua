-- Create workflow runs (one or a batch) and queue their root tasks; dedupe child runs by
-- key; take each run's idempotency key (all or nothing: a run whose key is held is not
-- created).
-- KEYS[1] runs index  KEYS[2] timers  KEYS[3] status index  KEYS[4] task run index
--      KEYS[5] index registry  KEYS[6] paused workflows (keys.paused), then per run: its
--      run hash, the parent run hash (or its
--      own), its idempotency key (keys.idempotency; its own hash when the workflow has
--      none), then the listing indexes it joins (run_index.listing_keys)
-- ARGV[1] number of runs, then per run: nkeys nargs, then its nargs arguments:
--       run_id wf input metadata priority now ntasks on_failure parent_run_id
--       parent_task dedupe_field parent_task_run_id child_index child_key defer
--       idem_method ('' | TTL | STATUS) idem_ttl_ms run_prefix fresh nroots
--       then per root task: name task_run_id watch_at deadline
--       then per other task: name task_run_id (the task run index is written here, once
--       for every task of the run: task run ids are derived from the run id)
-- fresh = 1: the caller generated the run id just now (a new UUID), so the run cannot
-- exist and is not looked up; run ids given by a caller (scheduled runs) are.
-- defer = 1: the caller cannot publish (it lacks the task code, so it cannot apply the
-- gates): the roots get a due dispatch timer and a worker's pump dispatches them.
-- Idempotency: the key holds "<run_id>|<method>" and expires after idem_ttl_ms (Redis's
-- clock). A STATUS key whose run has finished (or expired) is free again: the holder's
-- status is read here, in the same step, so a run that just finished never collides.
-- Each run is one HSET (and an EXISTS when its id came from the caller); the keys shared by the batch (timers, listing and
-- task run indexes) get one command each for the whole batch, after every run.
-- Returns per run: {1, paused} when created (paused: 1 when its workflow is paused now, so
-- the pause gate must look at its roots; 0 lets the caller skip that gate, as a transition
-- that queues tasks does), {0, existing_run_id, its workflow} when the dedupe
-- key is taken (the caller checks a replay spawned the same workflow), {0, run_id} when
-- the run exists, {2, holder_run_id} when the idempotency key is held.
local index, timers = KEYS[1], KEYS[2]
local ix = {status = KEYS[3], tasks = KEYS[4]}
local registry, paused = KEYS[5], KEYS[6]
local paused_of = {}  -- workflow -> 0 | 1, read once per call
local FIRST_ROOT = 21
local FINAL_RUN = {COMPLETED = true, FAILED = true, CANCELLED = true}
local w = new_writes()
local joined = {}   -- listing index -> {score, run_id, ...}, in first-seen order
local joined_order = {}

local function join(key, now, run_id)
  if not joined[key] then
    joined[key] = {}
    joined_order[#joined_order + 1] = key
  end
  push(joined[key], now, run_id)
end

-- One run: K its keys (run, parent, idem, listing...), A its arguments.
local function create(K, A)
  local run, parent, idem = K[1], K[2], K[3]
  local run_id, now = A[1], A[6]
  local dedupe, defer = A[11], A[15]
  local idem_method, idem_ttl_ms, run_prefix = A[16], A[17], A[18]
  if dedupe ~= '' then
    local existing = redis.call('HGET', parent, dedupe)
    if existing then
      return {0, existing, redis.call('HGET', run_prefix .. existing, 'wf') or ''}
    end
  end
  if A[19] ~= '1' and redis.call('EXISTS', run) == 1 then
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
  local fields = {'wf', A[2], 'in', A[3], 'md', A[4], 'pr', A[5],
    'ct', now, 'st', 'QUEUED', 'n', A[7], 'd', 0, 'nf', 0, 'nc', 0, 'of', A[8],
    'par', A[9], 'ptask', A[10], 'ptr', A[12], 'ci', A[13], 'ck', A[14]}
  local last_root = FIRST_ROOT + tonumber(A[20]) * 4 - 1
  for i = FIRST_ROOT, last_root, 4 do
    local roots = {h = fields, t = w.t, i = w.i}
    plan_queue(roots, run_id, A[i], A[i + 1], 0, now, A[i + 2], A[i + 3])
    if defer == '1' then
      push(w.t, now, dispatch_member(0, run_id, A[i]))
    end
  end
  for i = last_root + 1, #A, 2 do
    push(w.i, A[i + 1], run_id .. '|' .. A[i])
  end
  redis.call('HSET', run, unpack(fields))
  join(index, now, run_id)
  join(ix.status, status_score('QUEUED', now), run_id)
  for k = 4, #K do
    join(K[k], now, run_id)
  end
  local wf = A[2]
  if paused_of[wf] == nil then
    paused_of[wf] = redis.call('HEXISTS', paused, wf)
  end
  return {1, paused_of[wf]}
end

local out, k, a = {}, 7, 2
for r = 1, tonumber(ARGV[1]) do
  local nkeys, nargs = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local K, A = {}, {}
  for i = 1, nkeys do K[i] = KEYS[k + i - 1] end
  for i = 1, nargs do A[i] = ARGV[a + 1 + i] end
  out[r] = create(K, A)
  k, a = k + nkeys, a + 2 + nargs
end
apply_writes(w, nil, timers, ix)
local listing = {}
for _, key in ipairs(joined_order) do
  call_in_chunks('ZADD', key, joined[key])
  if key ~= index and key ~= ix.status then listing[#listing + 1] = key end
end
if #listing > 0 then
  call_in_chunks('SADD', registry, listing)
end
return out
