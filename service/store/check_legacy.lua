-- check_legacy: mark tracked pages that have no verification state (tracked before the site
-- verified pages, or before the service did) as unverified and queue their checks; pages
-- that have a state are left alone, so running it again changes nothing.
-- KEYS[1] page states hash   KEYS[2] unlisted zset   KEYS[3] check queue zset
-- ARGV[1] first due time (ms), then pairs: id, views (most viewed first: checked first)
-- Returns how many pages it marked.
local due, marked = tonumber(ARGV[1]), 0
for i = 2, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], 'l|0|') == 1 then
    redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
    redis.call('ZADD', KEYS[3], 'NX', due + marked, ARGV[i])
    marked = marked + 1
  end
end
return marked
