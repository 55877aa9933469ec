-- merge_claim: the two claims that turn a site into an alias of another. Each runs in one
-- site's slot, so two merges that meet on one site are ordered there: a site that others were
-- merged into cannot become an alias, and an alias cannot receive a merge.
-- ARGV[1] 'source' or 'target'
-- source: KEYS[1] source settings   KEYS[2] source aliases set
--         ARGV[2] settings as read   ARGV[3] settings with merged_into
--         Returns 1 done, 0 changed meanwhile (read again), -1 others were merged into it
-- target: KEYS[1] target settings   KEYS[2] target aliases set   KEYS[3] progress hash
--         ARGV[2] source id   ARGV[3] now (ms)
--         Returns 1 done, -1 the target does not exist, -2 the target is an alias
if ARGV[1] == 'source' then
  if redis.call('SCARD', KEYS[2]) > 0 then
    return -1
  end
  if (redis.call('GET', KEYS[1]) or '') ~= ARGV[2] then
    return 0
  end
  redis.call('SET', KEYS[1], ARGV[3])
  return 1
end
local raw = redis.call('GET', KEYS[1])
if not raw then
  return -1
end
local ok, doc = pcall(cjson.decode, raw)
if ok and type(doc) == 'table' and type(doc['merged_into']) == 'string' then
  return -2
end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('HSETNX', KEYS[3], 'claimed', ARGV[3])
return 1
