-- Replace a filter record only if it is still the one the caller read (check-and-set):
-- two updates never lose one another's change, and an update never brings back a
-- filter deleted meanwhile.
-- KEYS[1] filters hash
-- ARGV: filter_id expected_record new_record
-- Returns 1 when replaced, 0 when the record changed meanwhile, -1 when it is gone.
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
if current ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
