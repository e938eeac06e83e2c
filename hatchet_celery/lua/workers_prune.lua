-- Forget worker records whose heartbeat is older than forget_after (or unreadable),
-- judged on the record as it is now: a worker that sent a heartbeat since the caller
-- read it stale is kept.
-- KEYS[1] workers hash
-- ARGV: now forget_after, then the worker ids the caller found stale
-- Returns the number of records deleted.
local workers = KEYS[1]
local oldest = tonumber(ARGV[1]) - tonumber(ARGV[2])
local deleted = 0
for i = 3, #ARGV do
  local raw = redis.call('HGET', workers, ARGV[i])
  if raw then
    local ok, record = pcall(cjson.decode, raw)
    local beat = ok and type(record) == 'table' and tonumber(record.last_heartbeat) or nil
    if not beat or beat < oldest then
      redis.call('HDEL', workers, ARGV[i])
      deleted = deleted + 1
    end
  end
end
return deleted
