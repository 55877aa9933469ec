-- drop_page: forget a tracked page wherever its id is kept (prepended to hit.lua, for
-- track_page's evictions, to check_done.lua and to merge_pages.lua).
-- k: {views zset, paths hash, titles hash, title proposals hash, locked titles set,
--     rank zsets of day, week, month, year, [page states hash, unlisted pages zset,
--     candidates hash, check queue zset, check tries hash]} (the layout of pages.lua; the
--     verification keys k[10..14] are optional: merge_pages.lua passes the first nine)
local function drop_page(k, id)
  redis.call('ZREM', k[1], id)
  redis.call('HDEL', k[2], id)
  redis.call('HDEL', k[3], id)
  redis.call('HDEL', k[4], id)
  redis.call('SREM', k[5], id)
  for i = 6, 9 do
    redis.call('ZREM', k[i], id)
  end
  if k[10] then
    redis.call('HDEL', k[10], id)
    redis.call('ZREM', k[11], id)
    redis.call('ZREM', k[13], id)
    redis.call('HDEL', k[14], id)
  end
end
