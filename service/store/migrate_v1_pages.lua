-- migrate_v1_pages: move one batch of layout-1 per-page data (by path) to layout 2 (by page
-- id), atomically: each path's views, title or top-list score is added to the new keys and
-- removed from the old ones in this one script, so a migration killed anywhere and run
-- again moves each exactly once (service/store/migrations/m0002_page_ids.py).
-- ARGV[1] mode:
--   'pages'  KEYS[1] v1 pages hash path->views  KEYS[2] v1 titles hash path->title
--            KEYS[3] views zset id->views  KEYS[4] paths hash id->path
--            KEYS[5] titles hash id->title
--   'titles' (titles of paths without views, left after 'pages'; kept only for a tracked id)
--            KEYS[1] v1 titles  KEYS[2] views zset  KEYS[3] titles hash id->title
--   'top'    KEYS[1] v1 top zset path->views of one period  KEYS[2] rank zset id->views of
--            the same period (gets the old key's remaining lifetime)
-- ARGV[2..] pairs: page id, path
-- Returns the number of paths moved.
local mode = ARGV[1]
local moved = 0
if mode == 'pages' then
  for i = 2, #ARGV, 2 do
    local id, path = ARGV[i], ARGV[i + 1]
    local views = redis.call('HGET', KEYS[1], path)
    if views then
      redis.call('ZINCRBY', KEYS[3], views, id)
      redis.call('HSET', KEYS[4], id, path)
      local title = redis.call('HGET', KEYS[2], path)
      if title then
        redis.call('HSETNX', KEYS[5], id, title)
        redis.call('HDEL', KEYS[2], path)
      end
      redis.call('HDEL', KEYS[1], path)
      moved = moved + 1
    end
  end
elseif mode == 'titles' then
  for i = 2, #ARGV, 2 do
    local id, path = ARGV[i], ARGV[i + 1]
    local title = redis.call('HGET', KEYS[1], path)
    if title then
      if redis.call('ZSCORE', KEYS[2], id) then
        redis.call('HSETNX', KEYS[3], id, title)
      end
      redis.call('HDEL', KEYS[1], path)
      moved = moved + 1
    end
  end
elseif mode == 'top' then
  local ttl = redis.call('PTTL', KEYS[1])
  for i = 2, #ARGV, 2 do
    local id, path = ARGV[i], ARGV[i + 1]
    local score = redis.call('ZSCORE', KEYS[1], path)
    if score then
      redis.call('ZINCRBY', KEYS[2], score, id)
      redis.call('ZREM', KEYS[1], path)
      moved = moved + 1
    end
  end
  if ttl > 0 and moved > 0 then
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
return moved
