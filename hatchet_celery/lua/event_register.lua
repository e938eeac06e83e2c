-- A worker registers what one workflow listens to: its event keys, and its declarative
-- filters (default_filters), which replace those of the previous registration.
-- KEYS[1] subscriptions hash  KEYS[2] filters hash
-- ARGV: workflow subscription_json ('' = no event keys) then filter_id filter_json pairs
-- Returns the number of declarative filters written.
local subs, filters, wf = KEYS[1], KEYS[2], ARGV[1]
local old = redis.call('HGET', subs, wf)
if old then
  for _, id in ipairs(cjson.decode(old).declarative or {}) do
    redis.call('HDEL', filters, id)
  end
end
if ARGV[2] == '' then
  redis.call('HDEL', subs, wf)
else
  redis.call('HSET', subs, wf, ARGV[2])
end
local n = 0
for i = 3, #ARGV, 2 do
  redis.call('HSET', filters, ARGV[i], ARGV[i + 1])
  n = n + 1
end
return n
