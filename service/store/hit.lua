-- hit: record one page load and answer the figures after it, atomically, in one round trip
-- (its rate limit included). Named keys (K) and arguments (A) (named.lua), built in one
-- place: service/store/counters.py hit_call.
-- Keys:
--   K.* of the figures as stats.lua lists them (K.online is also the visit's session: each
--     visitor's last activity, kept a session timeout)
--   K.once      marker of this request id (a retry answers without counting again)
--   K.dedupe    reload guard of (visitor, page): the time (ms) of the last counted view
--   K.rate, K.rate48   rate counters of (site, address unit, window) and of the client's
--     IPv6 /48 (an unused name for IPv4)
--   K.views, K.paths, K.titles, K.proposals, K.locked, K.rank_day, K.rank_week,
--     K.rank_month, K.rank_year, K.states, K.unlisted, K.candidates, K.check_queue,
--     K.check_tries, K.rejected   the page's keys, as track_page (pages.lua) k[1..15]
--   K.sources   new visits by source, hash of the local year (MM-DD:<category>)
--   K.source_hosts   referring hosts of the month (zset host -> visits)
--   K.rank_previous  last month's rank zset (trimmed by keep_month_top, retention.lua)
-- Arguments:
--   A.* of the figures as stats.lua lists them (A.now, A.window, A.day, A.yesterday)
--   A.visitor   A.session_ms  session timeout   A.keep_ms  lifetime of K.online (the longer
--     of the session timeout and the online window; older entries are trimmed)
--   A.dedupe_ms  reload window (0 = count every load)   A.once_s  lifetime of K.once
--   A.uniques_max_age (ms) of cached uniques
--   A.rate_allowed, A.rate_window (ms), A.rate48_allowed (0 = no aggregate: IPv4)
--   A.lifetimes {day, week, month, year}: ms from now until the period keys expire
--     (relative, so that `now` is a parameter: a test may stand on any date)
--   A.page  track_page's arguments (pages.lua: id, path, title, title_hash, address,
--     listable, max_pages, verify, max_candidates)
--   A.source  category ('' = internal: not counted)   A.source_host ('' = none)
--   A.max_hosts   A.sources_life, A.hosts_life, A.rank_month_life (ms)
--   A.month_top_keep  pages a month's rank zset keeps once the month has ended
-- The site's existence is not checked here: the caller resolved the site (a hit that races
-- a delete writes what a hit writes; a site created again under that id clears those keys,
-- service/store/counters.py clear_counts).
-- Returns {1, counted (0/1), page views, pages evicted, figures, check queued (0/1)} |
--         {-2, ms until the rate window ends}
local now = A.now
local page = A.page

if not redis.call('SET', K.once, 1, 'NX', 'EX', A.once_s) then
  -- a retry of a request that already ran: answer without counting again
  local counted = tonumber(redis.call('GET', K.once)) or 0
  local views = tonumber(redis.call('ZSCORE', K.views, page.id)) or 0
  return {1, counted, views, 0, read_stats(A.uniques_max_age), 0}
end
local wait = over_limit(K.rate, A.rate_allowed, A.rate_window, A.now)
if not wait and A.rate48_allowed > 0 then
  wait = over_limit(K.rate48, A.rate48_allowed, A.rate_window, A.now)
end
if wait then
  redis.call('DEL', K.once)  -- refused: a retry is checked again
  return {-2, wait}
end

-- "seen": one entry per visitor, its last activity, serves online (ZCOUNT over the window)
-- and the visit (a new one after the session timeout). Trimmed when someone arrives.
local seen = tonumber(redis.call('ZSCORE', K.online, A.visitor))
local new_visit = (not seen) or (now - seen >= A.session_ms)
redis.call('ZADD', K.online, now, A.visitor)
if new_visit then
  redis.call('ZREMRANGEBYSCORE', K.online, '-inf', '(' .. (now - A.keep_ms))
end
redis.call('PEXPIRE', K.online, A.keep_ms)

-- the reload guard holds the time (ms) of the counted view, so the rule follows `now`, not
-- Redis's clock: SET NX counts a first view in one command; only when a guard exists is its
-- time compared (a test that moves `now` past the window counts again). Its expiry only
-- cleans up.
local counted = 0
if A.dedupe_ms <= 0 or redis.call('SET', K.dedupe, now, 'NX', 'PX', A.dedupe_ms) then
  counted = 1
else
  local viewed = tonumber(redis.call('GET', K.dedupe))
  if not viewed or now - viewed >= A.dedupe_ms then
    counted = 1
    redis.call('SET', K.dedupe, now, 'PX', A.dedupe_ms)
  end
end

if counted == 0 then
  redis.call('SET', K.once, 0, 'EX', A.once_s)
  local views = tonumber(redis.call('ZSCORE', K.views, page.id)) or 0
  return {1, 0, views, 0, read_stats(A.uniques_max_age), 0}
end

-- counted: the figures of the answer are the increments' own replies where there are some
local life = A.lifetimes
local periods = {K.week, K.month, K.year}
local function count(field)
  local day = redis.call('HINCRBY', K.history, A.day .. ':' .. field, 1)
  local out = {day}
  for i = 1, 3 do
    -- the week's, month's and year's counters live to their period's end (expiry.lua)
    local n = redis.call('HINCRBY', periods[i], field, 1)
    expire_new(periods[i], n, life[i + 1])
    out[i + 1] = n
  end
  out[5] = redis.call('HINCRBY', K.total, field, 1)
  return out
end
local p = count('p')
local v
if new_visit then
  v = count('v')
  count_source(K.sources, K.source_hosts, A.day, A.source, A.source_host, A.max_hosts,
               A.sources_life, A.hosts_life)
else
  v = {tonumber(redis.call('HGET', K.history, A.day .. ':v')) or 0}
  for i, key in ipairs({K.week, K.month, K.year, K.total}) do
    v[i + 1] = tonumber(redis.call('HGET', key, 'v')) or 0
  end
end
-- Uniques: the day's HyperLogLog first. When it does not change, neither would the week's,
-- month's or year's: a visitor id belongs to one day, every id added to the day's is added
-- to the three others too (here, and by a merge), so each of their registers is at least
-- the day's, which already holds this id's rank. A visitor's later pages of the day skip
-- three commands that could change nothing.
-- The HyperLogLogs are created by the period's first counted view: their lifetime is set
-- with the period's pageview count (PFADD answers 1 for most new visitors, not only when it
-- creates the key).
local hlls = {K.u_day, K.u_week, K.u_month, K.u_year}
local changed = redis.call('PFADD', K.u_day, A.visitor) == 1
for i = 1, 4 do
  if i > 1 and changed then
    redis.call('PFADD', hlls[i], A.visitor)
  end
  expire_new(hlls[i], p[i], life[i])
end

local views, evicted, queued = track_page(
  {K.views, K.paths, K.titles, K.proposals, K.locked, K.rank_day, K.rank_week, K.rank_month,
   K.rank_year, K.states, K.unlisted, K.candidates, K.check_queue, K.check_tries, K.rejected},
  {id = page.id, path = page.path, title = page.title, title_hash = page.title_hash,
   address = page.address, listable = page.listable, max_pages = page.max_pages,
   lifetimes = {life[1], life[2], A.rank_month_life, life[4]},  -- the month's: 13 months
   verify = page.verify, now = now, max_candidates = page.max_candidates})

local u, refreshed = uniques(now, A.uniques_max_age)
if refreshed then
  -- at most once every few seconds: last month's list, once the month has ended, is trimmed
  keep_month_top(K.rank_previous, A.month_top_keep)
end
local counts = {v[1], p[1], v[2], p[2], v[3], p[3], v[4], p[4], v[5], p[5]}
return {1, 1, views, evicted, figures_of(counts, u), queued}
