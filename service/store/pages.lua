-- track_page: one counted view of a page; the page table stays bounded and titles resist
-- defacement (prepended to hit.lua).
-- k[1] views zset id->views  k[2] paths hash id->path  k[3] titles hash id->title
-- k[4] title proposals hash id->"<title hash>|<address>,<address>"  k[5] locked titles set
-- k[6..9] rank zsets of day, week, month, year (hidden pages are ranked too; public top
-- lists leave them out when they read)
-- a.id page id   a.path   a.title ('' = none)   a.title_hash   a.address (client unit)
-- a.listable ('1' when the path may appear in top lists)   a.max_pages
-- a.lifetimes {day, week, month, year} (ms from now) of the rank zsets
-- Returns the page's views after this one, and how many pages made room for it.
local function track_page(k, a)
  local evicted = 0
  if not redis.call('ZSCORE', k[1], a.id) then
    -- a full table takes the new page in place of the least viewed ones: never closed
    while redis.call('ZCARD', k[1]) >= a.max_pages and evicted < 16 do
      drop_page(k, redis.call('ZRANGE', k[1], 0, 0)[1])
      evicted = evicted + 1
    end
    redis.call('HSET', k[2], a.id, a.path)
  end
  local views = tonumber(redis.call('ZINCRBY', k[1], 1, a.id))

  if a.title ~= '' then
    local current = redis.call('HGET', k[3], a.id)
    if not current then
      redis.call('HSET', k[3], a.id, a.title)  -- the first counted hit names the page
    elseif current ~= a.title and redis.call('SISMEMBER', k[5], a.id) == 0 then
      -- another title replaces it once 3 distinct addresses have reported that same title
      local hash, seen = string.match(redis.call('HGET', k[4], a.id) or '', '^(%x+)|(.*)$')
      if hash ~= a.title_hash then
        seen = ''
      end
      if not string.find(',' .. seen .. ',', ',' .. a.address .. ',', 1, true) then
        seen = (seen == '' and a.address) or (seen .. ',' .. a.address)
      end
      local _, commas = string.gsub(seen, ',', '')
      if commas + 1 >= 3 then
        redis.call('HSET', k[3], a.id, a.title)
        redis.call('HDEL', k[4], a.id)
      else
        redis.call('HSET', k[4], a.id, a.title_hash .. '|' .. seen)
      end
    end
  end

  if a.listable == '1' then
    for i = 6, 9 do
      expire_new(k[i], tonumber(redis.call('ZINCRBY', k[i], 1, a.id)), a.lifetimes[i - 5])
    end
  end
  return views, evicted
end
