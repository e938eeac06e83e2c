-- Release a holder of a concurrency gate (or drop a waiter), then admit the oldest waiters
-- of its keys that now fit under every key they need.
-- KEYS[1] gate hash  KEYS[2] gate queue  KEYS[3] gate held
-- ARGV: holder scan_limit
-- Returns the admitted waiters (their tasks are still parked: the caller wakes them).
local state, queue, held = KEYS[1], KEYS[2], KEYS[3]
local holder, limit = ARGV[1], tonumber(ARGV[2])
local rec = conc_drop(state, held, 'h', holder)
if not rec then
  conc_drop(state, queue, 'w', holder)
  return {}
end
local admitted = {}
for i, key in ipairs(rec.k) do
  conc_scan(state, queue, held, i, key, limit, admitted)
end
return admitted
