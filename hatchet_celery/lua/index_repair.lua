-- Re-file a run in the status index under the status its hash holds now (a listing met
-- it under another one: a script that did not update the index). Reading the status
-- here, not passing the one the listing read, keeps a run that moved on meanwhile from
-- being filed back under its old status.
-- KEYS[1] run hash  KEYS[2] status index
-- ARGV: run_id
-- Returns 1 when filed, 0 when the run is gone (or its status has no rank).
local run = KEYS[1]
local status = redis.call('HGET', run, 'st')
if not status or not STATUS_RANK[status] then return 0 end
index_status({status = KEYS[2]}, run, ARGV[1], status)
return 1
