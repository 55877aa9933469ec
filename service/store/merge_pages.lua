-- merge_pages: add one chunk of the source's per-page data into the target, exactly once
-- (the step marker is written with the writes).
-- KEYS[1] progress hash   KEYS[2] target pages hash path->views   KEYS[3] target titles hash
-- KEYS[4] target dropped counter   KEYS[5] (top chunks) the target's top zset of one period
-- ARGV[1] step   ARGV[2] now (ms)   ARGV[3] 'pages' or 'top'
-- pages: ARGV[4] max pages, then triples path, views, title ('' = none). A path the target
--        tracks gains the views and keeps the target's title; a new path is added, with the
--        source's title, while the target tracks fewer than max pages; otherwise its views
--        count as dropped, as a hit's would.
-- top:   ARGV[4] lifetime (ms) of the zset, then pairs path, views: added for paths the target
--        tracks (after the pages chunks).
-- Returns {1 applied or 0 already done, paths added, views dropped}
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return {0, 0, 0}
end
local added, dropped = 0, 0
if ARGV[3] == 'pages' then
  local max = tonumber(ARGV[4])
  for i = 5, #ARGV, 3 do
    local path, views, title = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local tracked = redis.call('HEXISTS', KEYS[2], path) == 1
    if tracked or redis.call('HLEN', KEYS[2]) < max then
      redis.call('HINCRBY', KEYS[2], path, views)
      if not tracked then
        added = added + 1
      end
      if title ~= '' then
        redis.call('HSETNX', KEYS[3], path, title)
      end
    else
      dropped = dropped + tonumber(views)
    end
  end
  if dropped > 0 then
    redis.call('INCRBY', KEYS[4], dropped)
  end
else
  for i = 5, #ARGV, 2 do
    if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then
      redis.call('ZINCRBY', KEYS[5], ARGV[i + 1], ARGV[i])
    end
  end
  redis.call('PEXPIRE', KEYS[5], ARGV[4])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, added, dropped}
