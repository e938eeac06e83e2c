-- Reset a durable task run to a node of one of its branches (runs.reset_durable_task):
-- a new branch starts with the checkpoints of branch ARGV[4] before node ARGV[3]; the
-- later ones are forgotten, so the next execution waits there again. The branch being
-- left is archived (cpb:<task>:<branch>, a JSON object node -> checkpoint record) so a
-- later reset can branch off it. The run must be finished; the caller replays it next.
-- KEYS[1] run hash
-- ARGV[1] run_id  ARGV[2] task  ARGV[3] node  ARGV[4] branch
-- Fields: db:<task> current branch (1 when absent), dbn:<task> last branch id given,
--         cp:<task>:<n> checkpoints, ct:<task>:<n> when the wait of node n first began.
-- Returns {1, new_branch}, {0, status} when the run is not finished (or gone),
--         {-1, branch} when the branch is unknown.
local run = KEYS[1]
local task, node, branch = ARGV[2], tonumber(ARGV[3]), ARGV[4]

local st = redis.call('HGET', run, 'st')
if st ~= 'COMPLETED' and st ~= 'FAILED' and st ~= 'CANCELLED' then return {0, st or ''} end

local current = redis.call('HGET', run, 'db:' .. task) or '1'
local prefix, anchors = 'cp:' .. task .. ':', 'ct:' .. task .. ':'
local live = {}
local fields = redis.call('HKEYS', run)
for _, field in ipairs(fields) do
  if string.sub(field, 1, #prefix) == prefix then
    live[string.sub(field, #prefix + 1)] = redis.call('HGET', run, field)
  end
end

local source
if branch == current then
  source = live
else
  local archived = redis.call('HGET', run, 'cpb:' .. task .. ':' .. branch)
  if not archived then return {-1, branch} end
  source = cjson.decode(archived)
end

-- archive the branch being left ({} encodes as an empty JSON object: fine either way)
redis.call('HSET', run, 'cpb:' .. task .. ':' .. current, cjson.encode(live))
for _, field in ipairs(fields) do
  if string.sub(field, 1, #prefix) == prefix or string.sub(field, 1, #anchors) == anchors then
    redis.call('HDEL', run, field)
  end
end
for n, record in pairs(source) do
  if tonumber(n) < node then redis.call('HSET', run, prefix .. n, record) end
end

local last = tonumber(redis.call('HGET', run, 'dbn:' .. task) or current)
local new = math.max(last, tonumber(current)) + 1
redis.call('HSET', run, 'db:' .. task, new, 'dbn:' .. task, new)
return {1, new}
