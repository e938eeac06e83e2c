-- Release a holder of a concurrency gate (or drop a waiter), then admit the oldest waiters
-- of its keys that now fit under every key they need.
-- KEYS[1] gate hash  KEYS[2] gate queue  KEYS[3] gate held
-- ARGV: holder scan_limit
-- Returns the admitted waiters (their tasks are still parked: the caller wakes them).
local state, queue, held = KEYS[1], KEYS[2], KEYS[3]
local holder, limit = ARGV[1], tonumber(ARGV[2])
local admitted = {}
local rec = conc_drop(state, held, 'h', holder)
if rec then
  for i, key in ipairs(rec.k) do
    conc_scan(state, queue, held, i, key, limit, admitted)
  end
else
  rec = conc_drop(state, queue, 'w', holder)
  if not rec then return admitted end
end
-- A key nobody holds or waits for forgets its max_runs (keys may be one per user).
for i, key in ipairs(rec.k) do
  if conc_count(state, i, key) == 0 and #conc_range(queue, i, key, 1) == 0 then
    redis.call('HDEL', state, 'm:' .. i .. ':' .. key)
  end
end
return admitted
