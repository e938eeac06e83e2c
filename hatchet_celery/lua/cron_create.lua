-- Store a cron created through the API; a workflow's (name, expression) pair is unique.
-- KEYS[1] crons hash  KEYS[2] cron names hash  KEYS[3] crons version
-- ARGV: cron_id unique_field record_json
-- Returns {1} when stored, {0, existing_cron_id} when the pair is taken.
local crons, names, version = KEYS[1], KEYS[2], KEYS[3]
local existing = redis.call('HGET', names, ARGV[2])
if existing then
  return {0, existing}
end
redis.call('HSET', names, ARGV[2], ARGV[1])
redis.call('HSET', crons, ARGV[1], ARGV[3])
redis.call('INCR', version)
return {1}
