-- Record a task run's output and release the children whose parents are all done.
-- KEYS[1] run hash  KEYS[2] leases  KEYS[3] timers  KEYS[4] done channel
--      (optional) KEYS[5] status index  KEYS[6] task run index
-- ARGV: run_id task claim output now retention status(COMPLETED|SKIPPED)
--       of of_id of_watch of_deadline nchildren
--       then per child: name nparents task_run_id watch_at deadline
-- Returns {1, run_status, child1, id1, attempt1, ...} or {-1} when the claim is stale.
local run, leases, timers, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run_id, task, claim, now = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local ix = {status = KEYS[5], tasks = KEYS[6]}
if redis.call('HGET', run, 's:' .. task) ~= 'RUNNING'
    or redis.call('HGET', run, 'c:' .. task) ~= claim then
  return {-1}
end
redis.call('HSET', run, 's:' .. task, ARGV[7], 'o:' .. task, ARGV[4], 'f:' .. task, now)
redis.call('ZREM', leases, claim .. '|' .. run_id .. '|' .. task)
redis.call('HINCRBY', run, 'd', 1)
local out = {1, ''}
local nchildren = tonumber(ARGV[12])
for i = 13, 12 + nchildren * 5, 5 do
  local child = ARGV[i]
  local count = redis.call('HINCRBY', run, 'n:' .. child, 1)
  if count == tonumber(ARGV[i + 1]) and not redis.call('HGET', run, 's:' .. child) then
    local attempt = queue_task(run, timers, run_id, child, ARGV[i + 2], now, ARGV[i + 3],
      ARGV[i + 4], ix)
    out[#out + 1] = child
    out[#out + 1] = ARGV[i + 2]
    out[#out + 1] = attempt
  end
end
local of = maybe_finish(run, timers, done, run_id, now, ARGV[6], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ix)
if of then
  out[#out + 1] = of
  out[#out + 1] = ARGV[9]
  out[#out + 1] = tonumber(redis.call('HGET', run, 'a:' .. of) or '0')
end
out[2] = redis.call('HGET', run, 'st')
return out
