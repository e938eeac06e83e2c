-- Delete a cron: its record, its uniqueness entry and its fire mark; beats drop it on
-- their next reload, and cron_fire refuses it at once.
-- KEYS[1] crons hash  KEYS[2] cron names hash  KEYS[3] crons version  KEYS[4] fired hash
-- ARGV: cron_id
-- Returns the deleted record JSON, or false when there was no such cron.
local crons, names, version, fired = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local record = redis.call('HGET', crons, ARGV[1])
if not record then
  return false
end
local cron = cjson.decode(record)
if cron['method'] == 'API' then
  local field = cron['workflow_name'] .. '\31' .. tostring(cron['name']) .. '\31' .. cron['cron']
  if redis.call('HGET', names, field) == ARGV[1] then
    redis.call('HDEL', names, field)
  end
end
redis.call('HDEL', crons, ARGV[1])
redis.call('HDEL', fired, ARGV[1])
redis.call('INCR', version)
return record
