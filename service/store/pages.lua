-- track_page: one counted view of a page; the page table stays bounded, junk never displaces
-- a verified page, and titles resist defacement (prepended to hit.lua).
-- k[1] views zset id->views  k[2] paths hash id->path  k[3] titles hash id->title
-- k[4] title proposals hash id->"<title hash>|<network>,<network>"  k[5] locked titles set
-- k[6..9] rank zsets of day, week, month, year (hidden pages are ranked too; public top
-- lists leave them out when they read)
-- k[10] page states hash id->"<state>|<last check ms>|<title hash clients reported>", state
--   u unverified (not ranked until verified), l unverified but tracked before the site
--   verified pages (ranked already; lists leave it out while it is not v), v verified,
--   r rejected (the portal answered 404 or 410)
-- k[11] unlisted zset id->views of the u, l and r pages (evicted first, least viewed first)
-- k[12] candidates hash id->path: new paths waiting outside a table full of verified pages
-- k[13] check queue zset id->due (ms)   k[14] check tries hash (only dropped here)
-- k[15] rejected candidates zset id->when (ms): not asked again for a day
-- a.id page id   a.path   a.title ('' = none)   a.title_hash   a.address (client network,
-- keyed: 3 distinct ones retitle a page of a site that does not verify)
-- a.listable ('1' when the path may appear in top lists)   a.max_pages
-- a.lifetimes {day, week, month, year} (ms from now) of the rank zsets
-- a.verify ('1' when the site checks pages against its portal)   a.now (ms)
-- a.max_candidates
-- Returns the page's views after this one, how many pages made room for it, and 1 when it
-- queued a check (the caller wakes a fetcher).
local DAY_MS = 86400000

local function page_state(raw)
  if not raw then
    return nil, 0, ''
  end
  local state, checked, seen = string.match(raw, '^(%a)|(%d+)|(%x*)$')
  return state, tonumber(checked) or 0, seen or ''
end

local function queue_check(queue, id, due)
  return redis.call('ZADD', queue, 'NX', due, id)
end

local function track_page(k, a)
  local evicted, queued = 0, 0
  local verify = a.verify == '1'
  local tracked = redis.call('ZSCORE', k[1], a.id)
  if not tracked then
    -- a full table takes the new page in place of the least viewed ones: never closed. A
    -- site that verifies gives up only unverified and rejected pages for it.
    while redis.call('ZCARD', k[1]) >= a.max_pages and evicted < 16 do
      local victim = redis.call('ZRANGE', verify and k[11] or k[1], 0, 0)[1]
      if not victim then
        break
      end
      drop_page(k, victim)
      evicted = evicted + 1
    end
    if verify and redis.call('ZCARD', k[1]) >= a.max_pages then
      -- every tracked page is verified: the path waits as a candidate (bounded) and takes
      -- the least viewed verified page's place once it is verified itself (check_done.lua)
      local rejected = tonumber(redis.call('ZSCORE', k[15], a.id) or '0')
      if a.now - rejected >= DAY_MS and (redis.call('HEXISTS', k[12], a.id) == 1
          or redis.call('HLEN', k[12]) < a.max_candidates) then
        redis.call('HSET', k[12], a.id, a.path)
        queued = queue_check(k[13], a.id, a.now)
      end
      return 0, evicted, queued
    end
    redis.call('HSET', k[2], a.id, a.path)
    if verify then
      redis.call('HDEL', k[12], a.id)  -- a candidate that found room is tracked now
    end
  end
  local views = tonumber(redis.call('ZINCRBY', k[1], 1, a.id))

  local state = nil
  if verify then
    local checked, seen
    state, checked, seen = page_state(redis.call('HGET', k[10], a.id))
    if not state then
      -- a new path, or one tracked before the site verified pages: checked soon
      state = tracked and 'l' or 'u'
      redis.call('HSET', k[10], a.id, state .. '|0|' .. a.title_hash)
      redis.call('ZADD', k[11], views, a.id)
      queued = queue_check(k[13], a.id, a.now)
    elseif state == 'v' then
      -- a client reports another title than clients did: check again, at most once a day
      if a.title ~= '' and a.title_hash ~= seen and a.now - checked >= DAY_MS
          and redis.call('SISMEMBER', k[5], a.id) == 0 then
        redis.call('HSET', k[10], a.id, 'v|' .. checked .. '|' .. a.title_hash)
        queued = queue_check(k[13], a.id, a.now)
      end
    else
      redis.call('ZINCRBY', k[11], 1, a.id)
      if state == 'r' and a.now - checked >= DAY_MS then
        queued = queue_check(k[13], a.id, a.now)  -- a rejected path is asked again daily
      end
    end
  elseif a.title ~= '' then
    local current = redis.call('HGET', k[3], a.id)
    if not current then
      redis.call('HSET', k[3], a.id, a.title)  -- the first counted hit names the page
    elseif current ~= a.title and redis.call('SISMEMBER', k[5], a.id) == 0 then
      -- another title replaces it once 3 distinct networks have reported that same title
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

  -- an unverified path is not ranked: its views join the ranks when it is verified
  if a.listable == '1' and state ~= 'u' and state ~= 'r' then
    for i = 6, 9 do
      expire_new(k[i], tonumber(redis.call('ZINCRBY', k[i], 1, a.id)), a.lifetimes[i - 5])
    end
  end
  return views, evicted, queued
end
