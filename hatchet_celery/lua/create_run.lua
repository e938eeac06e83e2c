-- Create a workflow run and queue its root tasks; dedupe child runs by key.
-- KEYS[1] run hash  KEYS[2] runs index  KEYS[3] timers  KEYS[4] parent run hash (or KEYS[1])
--      optional: KEYS[5] status index  KEYS[6] task run index  KEYS[7] index registry
--      KEYS[8..] listing indexes the run joins (run_index.listing_keys)
-- ARGV: run_id wf input metadata priority now ntasks on_failure parent_run_id
--       parent_task dedupe_field parent_task_run_id child_index child_key defer
--       then per root task: name task_run_id watch_at deadline
-- defer = 1: the caller cannot publish (it lacks the task code, so it cannot apply the
-- gates): the roots get a due dispatch timer and a worker's pump dispatches them.
-- Returns {1} when created, {0, existing_run_id} when the dedupe key is taken.
local run, index, timers, parent = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_id, now = ARGV[1], ARGV[6]
local ix = {status = KEYS[5], tasks = KEYS[6]}
local dedupe = ARGV[11]
if dedupe ~= '' then
  local existing = redis.call('HGET', parent, dedupe)
  if existing then
    return {0, existing}
  end
  redis.call('HSET', parent, dedupe, run_id)
end
if redis.call('EXISTS', run) == 1 then
  return {0, run_id}
end
redis.call('HSET', run, 'wf', ARGV[2], 'in', ARGV[3], 'md', ARGV[4], 'pr', ARGV[5],
  'ct', now, 'st', 'QUEUED', 'n', ARGV[7], 'd', 0, 'nf', 0, 'nc', 0, 'of', ARGV[8],
  'par', ARGV[9], 'ptask', ARGV[10], 'ptr', ARGV[12], 'ci', ARGV[13], 'ck', ARGV[14])
redis.call('ZADD', index, now, run_id)
index_status(ix, run, run_id, 'QUEUED')
for i = 8, #KEYS do
  redis.call('ZADD', KEYS[i], now, run_id)
  redis.call('SADD', KEYS[7], KEYS[i])
end
for i = 16, #ARGV, 4 do
  queue_task(run, timers, run_id, ARGV[i], ARGV[i + 1], now, ARGV[i + 2], ARGV[i + 3], ix)
  if ARGV[15] == '1' then
    redis.call('ZADD', timers, now, dispatch_member(0, run_id, ARGV[i]))
  end
end
return {1}
