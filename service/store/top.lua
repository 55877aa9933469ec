-- top: a period's most viewed pages with their paths and titles, in one round trip.
-- KEYS[1] rank zset id->views   KEYS[2] paths hash   KEYS[3] titles hash
-- KEYS[4] hidden pages set      KEYS[5] locked titles set
-- ARGV[1] how many ranked ids to read   ARGV[2] '1' to include hidden pages (admin)
-- Returns {{path, views, title or nil, hidden (0/1), locked (0/1)}, ...}, most viewed first;
-- ids whose page was forgotten or evicted are skipped.
local ranked = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local out = {}
for i = 1, #ranked, 2 do
  local id = ranked[i]
  local hidden = redis.call('SISMEMBER', KEYS[4], id)
  if hidden == 0 or ARGV[2] == '1' then
    local path = redis.call('HGET', KEYS[2], id)
    if path then
      table.insert(out, {path, ranked[i + 1], redis.call('HGET', KEYS[3], id), hidden,
                         redis.call('SISMEMBER', KEYS[5], id)})
    end
  end
end
return out
