-- Evict a waiting durable task run from its worker's memory (runnables/eviction.py).
-- The worker drops the task's coroutine; the task run stays SUSPENDED, marked evicted
-- (ev:<task> = the claim it was evicted under, so a later claim clears the mark by
-- itself), and is restored (queued again, replayed from its checkpoints) when its wait
-- is met or by durable_restore.lua.
-- KEYS[1] run hash  KEYS[2] leases  KEYS[3] timers
-- ARGV[1] run_id  ARGV[2] task  ARGV[3] mode  ARGV[4] claim  ARGV[5] reason
--      ARGV[6] children_json  ARGV[7] poll_at
-- mode 'parked':  SUSPENDED under claim (its wait registered): only marked.
-- mode 'running': RUNNING under claim, awaiting child runs: -> SUSPENDED, its lease
--   released; ew:<task> keeps the child run ids and a 'dvc|<run>|<task>' timer at
--   poll_at restores it once one of them has finished.
-- Returns 1 when evicted, 0 when the task run is not in the expected state.
local run, leases, timers = KEYS[1], KEYS[2], KEYS[3]
local run_id, task, mode, claim = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local reason, children, poll_at = ARGV[5], ARGV[6], ARGV[7]

local f = redis.call('HMGET', run, 's:' .. task, 'c:' .. task)
if f[2] ~= claim then return 0 end
if mode == 'parked' then
  if f[1] ~= 'SUSPENDED' then return 0 end
else
  if f[1] ~= 'RUNNING' then return 0 end
  redis.call('ZREM', leases, claim .. '|' .. run_id .. '|' .. task)
  redis.call('HSET', run, 's:' .. task, 'SUSPENDED', 'ew:' .. task, children)
  redis.call('ZADD', timers, poll_at, 'dvc|' .. run_id .. '|' .. task)
end
redis.call('HSET', run, 'ev:' .. task, claim, 'er:' .. task, reason)
return 1
