-- Store a scheduled run and arm its timer: a worker's timer pump fires it when due.
-- KEYS[1] scheduled hash  KEYS[2] scheduled index  KEYS[3] timers
-- ARGV: scheduled_id trigger_at now then field/value pairs of the record
-- Returns 1.
local sched, index, timers = KEYS[1], KEYS[2], KEYS[3]
local id, at, now = ARGV[1], ARGV[2], ARGV[3]
redis.call('DEL', sched)
redis.call('HSET', sched, 'id', id, 'at', at, 'ct', now, 'ut', now, 'run', '')
for i = 4, #ARGV, 2 do
  redis.call('HSET', sched, ARGV[i], ARGV[i + 1])
end
redis.call('ZADD', index, now, id)
redis.call('ZADD', timers, at, 's|' .. id)
return 1
