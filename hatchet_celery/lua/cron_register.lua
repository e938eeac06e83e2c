-- Replace the declared (on_crons) crons of one workflow; API crons are left alone.
-- Called by every worker and beat at start: ids are derived from the workflow and the
-- expression, so concurrent registrations of one declaration agree.
-- KEYS[1] crons hash  KEYS[2] declared hash  KEYS[3] crons version  KEYS[4] fired hash
-- ARGV: workflow then pairs of (cron_id, record_json)
-- Returns the number of crons added, changed or removed.
local crons, declared, version, fired = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local workflow = ARGV[1]
local keep = {}
local ids = {}
local changed = 0
for i = 2, #ARGV, 2 do
  local id, record = ARGV[i], ARGV[i + 1]
  keep[id] = true
  ids[#ids + 1] = id
  if redis.call('HGET', crons, id) ~= record then
    redis.call('HSET', crons, id, record)
    changed = changed + 1
  end
end
local old = redis.call('HGET', declared, workflow)
if old then
  for _, id in ipairs(cjson.decode(old)) do
    if not keep[id] then
      redis.call('HDEL', crons, id)
      redis.call('HDEL', fired, id)
      changed = changed + 1
    end
  end
end
if #ids > 0 then
  redis.call('HSET', declared, workflow, cjson.encode(ids))
else
  redis.call('HDEL', declared, workflow)
end
if changed > 0 then
  redis.call('INCR', version)
end
return changed
