-- Register a wait: a task run waits for sleeps and events (its conditions, or a durable
-- task's wait). Registration and the transition are one step, and the caller reads the
-- lookback events only afterwards, so an event pushed meanwhile is seen by one or the
-- other (event_push.lua returns the waiters registered before it).
-- KEYS[1] run hash  KEYS[2] timers  KEYS[3] leases
--      KEYS[4..] event waiter hashes, one per waiter entry of ARGV, in order
-- ARGV: run_id task mode(gate|durable) token now spec_json nsleeps
--       then per sleep: timer_member due
--       then per event condition: waiter_member waiter_json
-- gate:    QUEUED with attempt = token -> WAITING (its watchdog timer removed)
-- durable: RUNNING under claim = token -> SUSPENDED (its lease released: no slot held)
-- Returns 1 when registered, 0 when the task run is not in the expected state.
local run, timers, leases = KEYS[1], KEYS[2], KEYS[3]
local run_id, task, mode, token = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local st = redis.call('HGET', run, 's:' .. task)
if mode == 'gate' then
  if st ~= 'QUEUED' or redis.call('HGET', run, 'a:' .. task) ~= token
      or redis.call('HEXISTS', run, 'cd:' .. task) == 1 then
    return 0
  end
  redis.call('ZREM', timers, watchdog_member(token, run_id, task))
  redis.call('HSET', run, 's:' .. task, 'WAITING')
else
  if st ~= 'RUNNING' or redis.call('HGET', run, 'c:' .. task) ~= token then
    return 0
  end
  redis.call('ZREM', leases, token .. '|' .. run_id .. '|' .. task)
  redis.call('HSET', run, 's:' .. task, 'SUSPENDED')
end
local old = redis.call('HGET', run, 'cw:' .. task)
if old then
  for _, c in ipairs(cjson.decode(old).conds) do
    redis.call('HDEL', run, 'cv:' .. task .. ':' .. c.id)
  end
end
redis.call('HSET', run, 'cw:' .. task, ARGV[6])
local i = 8
for _ = 1, tonumber(ARGV[7]) do
  redis.call('ZADD', timers, ARGV[i + 1], ARGV[i])
  i = i + 2
end
local k = 4
while i <= #ARGV do
  redis.call('HSET', KEYS[k], ARGV[i], ARGV[i + 1])
  k = k + 1
  i = i + 2
end
return 1
