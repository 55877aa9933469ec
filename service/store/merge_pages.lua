-- merge_pages: add one chunk of the source's per-page data into the target, exactly once
-- (the step marker is written with the writes). The page layout of pages.lua: a page is its
-- id (a hash of its path, the same on both sites).
-- KEYS[1] progress hash
-- KEYS[2] target views zset id->views   KEYS[3] paths hash id->path   KEYS[4] titles hash
-- KEYS[5] title proposals hash   KEYS[6] locked titles set   KEYS[7] hidden pages set
-- KEYS[8..11] rank zsets of day, week, month, year
-- ARGV[1] step   ARGV[2] now (ms)   ARGV[3] 'pages' or 'rank'
-- pages: ARGV[4] max pages, then 6-tuples: id, path, views, title ('' = none),
--        locked ('1' when the source's admin locked that title), hidden ('1' when hidden)
--        A page the target tracks gains the views and keeps the target's title (it takes
--        the source's, locked as it was, only when it had none). A new page is added while
--        the target has room; when full, it takes the place of the least viewed page if it
--        has more views (as in track_page, the evicted page's data goes), else it is not
--        kept. A page hidden on either site stays hidden.
-- rank:  ARGV[4] the KEYS index of the rank zset to add to, beyond the current periods' (5:
--        KEYS[12]; a day, week, month or year, past months included)
--        ARGV[5] its lifetime (ms; it never
--        shortens a longer one; 0 = leave it)   ARGV[6] how many entries it keeps (0 = all:
--        an ended month's list keeps its most viewed), then pairs id, views: added for
--        pages the target tracks.
-- Returns {1 applied or 0 already done, pages added, target pages evicted, pages not kept}
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return {0, 0, 0, 0}
end
local added, evicted, dropped = 0, 0, 0
local page_keys = {KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[8], KEYS[9], KEYS[10],
                   KEYS[11]}
if ARGV[3] == 'pages' then
  local max = tonumber(ARGV[4])
  for i = 5, #ARGV, 6 do
    local id, path, views, title = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
    local keep = redis.call('ZSCORE', KEYS[2], id) ~= false
    if not keep then
      if redis.call('ZCARD', KEYS[2]) < max then
        keep = true
      else
        local least = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
        if least[1] and tonumber(least[2]) < views then
          drop_page(page_keys, least[1])
          evicted = evicted + 1
          keep = true
        end
      end
      if keep then
        redis.call('HSET', KEYS[3], id, path)
        added = added + 1
      end
    end
    if keep then
      redis.call('ZINCRBY', KEYS[2], views, id)
      if title ~= '' and redis.call('HSETNX', KEYS[4], id, title) == 1
          and ARGV[i + 4] == '1' then
        redis.call('SADD', KEYS[6], id)
      end
      if ARGV[i + 5] == '1' then
        redis.call('SADD', KEYS[7], id)
      end
    else
      dropped = dropped + 1
    end
  end
else
  local rank = KEYS[7 + tonumber(ARGV[4])]
  for i = 7, #ARGV, 2 do
    if redis.call('ZSCORE', KEYS[2], ARGV[i]) then
      redis.call('ZINCRBY', rank, ARGV[i + 1], ARGV[i])
    end
  end
  local life, ttl = tonumber(ARGV[5]), redis.call('PTTL', rank)
  if life > 0 and (ttl == -1 or (ttl >= 0 and ttl < life)) then
    redis.call('PEXPIRE', rank, life)
  end
  local keep = tonumber(ARGV[6])
  if keep > 0 and redis.call('ZCARD', rank) > keep then
    redis.call('ZREMRANGEBYRANK', rank, 0, -(keep + 1))
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, added, evicted, dropped}
