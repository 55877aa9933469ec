-- hit: record one page load and return the stats, atomically, in one round trip (its rate
-- limit included).
-- KEYS[1..14] as read_stats (stats.lua)
-- KEYS[15] site settings (must exist)   KEYS[16] once marker of this request
-- KEYS[17] visitor's last activity (ms)  KEYS[18] last counted view (ms) of (visitor, page)
-- KEYS[19] rate counter of (site, address unit, window)
-- KEYS[20..28] per-page keys, as track_page (pages.lua) k[1..9]
-- ARGV[1..4] as read_stats    ARGV[5] visitor id   ARGV[6] session timeout (s)
-- ARGV[7] dedupe window (s, 0 = none)   ARGV[8] once marker lifetime (s)
-- ARGV[9] max age (ms) of cached uniques   ARGV[10] hits allowed per window
-- ARGV[11] window (ms)   ARGV[12..15] lifetimes (ms from now) of day, week, month, year keys
-- (relative, so that `now` is a parameter: a test may stand on any date)
-- ARGV[16] page id   ARGV[17] path   ARGV[18] title ('' = none)   ARGV[19] title hash
-- ARGV[20] address unit (keyed hash)   ARGV[21] listable (1/0)   ARGV[22] max pages
-- Sources and month-top retention (issue #18; appended after the lists above):
-- KEYS[29] new visits by source, hash of the local year (MM-DD:<category>)
-- KEYS[30] referring hosts of the month (zset host -> visits)
-- KEYS[31] last month's rank zset (trimmed by keep_month_top, retention.lua)
-- ARGV[23] source category ('' = internal: not counted)   ARGV[24] referring host ('' = none)
-- ARGV[25] max hosts per month   ARGV[26] lifetime (ms) of KEYS[29]
-- ARGV[27] lifetime (ms) of KEYS[30]   ARGV[28] lifetime (ms) of the month's rank zset
-- ARGV[29] pages a month's rank zset keeps once the month has ended
-- Address aggregates and page verification (issue #26; appended after the lists above):
-- KEYS[32] rate counter of (site, the client's IPv6 /48, window)
-- KEYS[33..38] page states, unlisted pages, candidates, check queue, check tries, rejected
--   candidates, as track_page (pages.lua) k[10..15]
-- ARGV[30] hits the /48 together may make per window (0 = no aggregate: IPv4)
-- ARGV[31] '1' when the site verifies its pages   ARGV[32] max candidates
-- Returns {1, counted (0/1), page views, pages evicted, stats, check queued (0/1)} |
--         {-1} unknown site |
--         {-2, ms until the rate window ends}
if redis.call('EXISTS', KEYS[15]) == 0 then
  return {-1}
end
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local day = ARGV[3]
local visitor = ARGV[5]
local counted = 0
local evicted = 0
local queued = 0
local views = nil

local previous = redis.call('GET', KEYS[16])
if previous then
  -- a retry of a request that already ran: answer without counting again
  counted = tonumber(previous)
else
  local wait = over_limit(KEYS[19], tonumber(ARGV[10]), tonumber(ARGV[11]))
  if not wait and tonumber(ARGV[30]) > 0 then
    wait = over_limit(KEYS[32], tonumber(ARGV[30]), tonumber(ARGV[11]))
  end
  if wait then
    return {-2, wait}
  end
  redis.call('ZADD', KEYS[1], now, visitor)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
  redis.call('PEXPIRE', KEYS[1], window)

  -- markers hold the time (ms) they were set, so the rules follow `now`, not Redis's clock;
  -- their expiry only cleans up
  local dedupe = tonumber(ARGV[7]) * 1000
  local viewed = tonumber(redis.call('GET', KEYS[18]))
  if dedupe <= 0 or not viewed or now - viewed >= dedupe then
    counted = 1
    if dedupe > 0 then
      redis.call('SET', KEYS[18], now, 'PX', dedupe)
    end
  end
  local timeout = tonumber(ARGV[6]) * 1000
  local seen = tonumber(redis.call('GET', KEYS[17]))
  local new_visit = (not seen) or (now - seen >= timeout)
  redis.call('SET', KEYS[17], now, 'PX', timeout)
  if counted == 1 then
    local fields = {'p'}
    if new_visit then
      table.insert(fields, 'v')
      count_source(KEYS[29], KEYS[30], day, ARGV[23], ARGV[24], ARGV[25], ARGV[26], ARGV[27])
    end
    for _, field in ipairs(fields) do
      redis.call('HINCRBY', KEYS[2], field, 1)
      redis.call('HINCRBY', KEYS[6], day .. ':' .. field, 1)
      -- the week's, month's and year's counters (lifetimes ARGV[13..15])
      for i = 5, 3, -1 do
        expire_new(KEYS[i], redis.call('HINCRBY', KEYS[i], field, 1), ARGV[18 - i])
      end
    end
    for i = 7, 10 do
      -- PFADD answers 1 whenever it creates the key
      expire_new(KEYS[i], redis.call('PFADD', KEYS[i], visitor), ARGV[5 + i])
    end
    views, evicted, queued = track_page(
      {KEYS[20], KEYS[21], KEYS[22], KEYS[23], KEYS[24], KEYS[25], KEYS[26], KEYS[27],
       KEYS[28], KEYS[33], KEYS[34], KEYS[35], KEYS[36], KEYS[37], KEYS[38]},
      {id = ARGV[16], path = ARGV[17], title = ARGV[18], title_hash = ARGV[19],
       address = ARGV[20], listable = ARGV[21], max_pages = tonumber(ARGV[22]),
       lifetimes = {ARGV[12], ARGV[13], ARGV[28], ARGV[15]},  -- the month's: 13 months
       verify = ARGV[31], now = now, max_candidates = tonumber(ARGV[32])})
    keep_month_top(KEYS[31], ARGV[29])
  end
  redis.call('SET', KEYS[16], counted, 'EX', tonumber(ARGV[8]))
end

views = views or tonumber(redis.call('ZSCORE', KEYS[20], ARGV[16])) or 0
return {1, counted, views, evicted, read_stats(tonumber(ARGV[9])), queued}
