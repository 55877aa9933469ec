-- drop_page: forget a tracked page wherever its id is kept (prepended to hit.lua, for
-- track_page's evictions, and to merge_pages.lua).
-- k: {views zset, paths hash, titles hash, title proposals hash, locked titles set,
--     rank zsets of day, week, month, year} (the layout of pages.lua)
local function drop_page(k, id)
  redis.call('ZREM', k[1], id)
  redis.call('HDEL', k[2], id)
  redis.call('HDEL', k[3], id)
  redis.call('HDEL', k[4], id)
  redis.call('SREM', k[5], id)
  for i = 6, 9 do
    redis.call('ZREM', k[i], id)
  end
end
