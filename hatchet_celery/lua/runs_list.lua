-- List run ids newest first: the intersection of groups, each a union of score windows
-- of sorted sets (see _runtime/core/run_index.py). The smallest group is walked in time order
-- (a merge of its windows); every other group is checked per candidate with ZSCORE.
-- KEYS: the sorted set of every window, in the order of ARGV
-- ARGV: offset limit ngroups, then per group: nwindows, then per window: lo hi offset scale
--       (score -> creation seconds = (score - offset) * scale)
-- Returns {has_more, total (-1 when the walk stopped early), id1, id2, ...}.
local skip, limit, ngroups = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local BATCH = 200
local groups, a, k = {}, 4, 1
for g = 1, ngroups do
  local n = tonumber(ARGV[a])
  a = a + 1
  local group = {size = 0}
  for _ = 1, n do
    local w = {key = KEYS[k], lo = tonumber(ARGV[a]), hi = tonumber(ARGV[a + 1]),
      off = tonumber(ARGV[a + 2]), scale = tonumber(ARGV[a + 3]), pos = 0, buf = {}, at = 1}
    w.count = redis.call('ZCOUNT', w.key, ARGV[a], ARGV[a + 1])
    group.size = group.size + w.count
    group[#group + 1] = w
    a = a + 4
    k = k + 1
  end
  groups[#groups + 1] = group
end
local driver = 1
for g = 2, #groups do
  if groups[g].size < groups[driver].size then driver = g end
end

-- The next (member, time) of a window, newest first; nil when it is exhausted.
local function head(w)
  if w.at > #w.buf then
    if w.pos >= w.count then return nil end
    w.buf = redis.call('ZREVRANGEBYSCORE', w.key, w.hi, w.lo, 'WITHSCORES', 'LIMIT', w.pos, BATCH)
    w.pos = w.pos + BATCH
    w.at = 1
    if #w.buf == 0 then
      w.count = 0
      return nil
    end
  end
  return w.buf[w.at], (tonumber(w.buf[w.at + 1]) - w.off) * w.scale
end

local function in_group(group, member)
  for _, w in ipairs(group) do
    local score = redis.call('ZSCORE', w.key, member)
    if score then
      score = tonumber(score)
      if score >= w.lo and score <= w.hi then return true end
    end
  end
  return false
end

local walk = groups[driver]
local seen, ids, matched, has_more = {}, {}, 0, 0
while true do
  local best, best_member, best_time = nil, nil, nil
  for _, w in ipairs(walk) do
    local member, t = head(w)
    if member and (best == nil or t > best_time) then
      best, best_member, best_time = w, member, t
    end
  end
  if best == nil then break end
  best.at = best.at + 2
  if not seen[best_member] then
    seen[best_member] = true
    local ok = true
    for g = 1, #groups do
      if g ~= driver and not in_group(groups[g], best_member) then
        ok = false
        break
      end
    end
    if ok then
      matched = matched + 1
      if matched > skip + limit then
        has_more = 1
        break
      end
      if matched > skip then ids[#ids + 1] = best_member end
    end
  end
end
local out = {has_more, has_more == 1 and -1 or matched}
for _, id in ipairs(ids) do out[#out + 1] = id end
return out
