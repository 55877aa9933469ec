-- hit: record one page load and return the stats, atomically, in one round trip.
-- KEYS[1..14] as read_stats (stats.lua)
-- KEYS[15] site settings (must exist)   KEYS[16] once marker of this request
-- KEYS[17] visitor's last activity (ms)  KEYS[18] last counted view (ms) of (visitor, path)
-- KEYS[19] pages hash path->views       KEYS[20] titles hash path->title
-- KEYS[21..24] top pages zsets of day, week, month, year
-- KEYS[25] dropped counter (views not tracked per page because of max_pages)
-- ARGV[1..4] as read_stats    ARGV[5] visitor id   ARGV[6] session timeout (s)
-- ARGV[7] dedupe window (s, 0 = none)   ARGV[8] path   ARGV[9] title ('' = keep)
-- ARGV[10] max pages   ARGV[11..14] lifetimes (ms from now) of day, week, month, year keys
-- (relative, so that `now` is a parameter: a test may stand on any date)
-- ARGV[15] once marker lifetime (s)   ARGV[16] max age (ms) of cached uniques
-- Sources and month-top retention (issue #18; appended after the lists above):
-- KEYS[26] new visits by source, hash of the local year (MM-DD:<category>)
-- KEYS[27] referring hosts of the month (zset host -> visits)
-- KEYS[28] last month's top pages zset (trimmed by keep_month_top, retention.lua)
-- ARGV[17] source category ('' = internal: not counted)   ARGV[18] referring host ('' = none)
-- ARGV[19] max hosts per month   ARGV[20] lifetime (ms) of KEYS[26]
-- ARGV[21] lifetime (ms) of KEYS[27]   ARGV[22] lifetime (ms) of the month's top pages
-- ARGV[23] paths a month's top pages keep once the month has ended
-- Returns {status (1 ok, -1 unknown site), counted (0/1), page views, dropped (0/1), stats}
if redis.call('EXISTS', KEYS[15]) == 0 then
  return {-1}
end
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local day = ARGV[3]
local visitor = ARGV[5]
local path = ARGV[8]
local counted = 0
local dropped = 0

local previous = redis.call('GET', KEYS[16])
if previous then
  -- a retry of a request that already ran: answer without counting again
  counted = tonumber(previous)
else
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
      count_source(KEYS[26], KEYS[27], day, ARGV[17], ARGV[18], ARGV[19], ARGV[20], ARGV[21])
    end
    for _, field in ipairs(fields) do
      redis.call('HINCRBY', KEYS[2], field, 1)
      redis.call('HINCRBY', KEYS[6], day .. ':' .. field, 1)
      redis.call('HINCRBY', KEYS[5], field, 1)
      redis.call('HINCRBY', KEYS[4], field, 1)
      redis.call('HINCRBY', KEYS[3], field, 1)
    end
    redis.call('PEXPIRE', KEYS[5], ARGV[12])
    redis.call('PEXPIRE', KEYS[4], ARGV[13])
    redis.call('PEXPIRE', KEYS[3], ARGV[14])
    for i = 7, 10 do
      redis.call('PFADD', KEYS[i], visitor)
      redis.call('PEXPIRE', KEYS[i], ARGV[4 + i])
    end

    if redis.call('HEXISTS', KEYS[19], path) == 0
        and redis.call('HLEN', KEYS[19]) >= tonumber(ARGV[10]) then
      dropped = 1
      redis.call('INCR', KEYS[25])
    else
      redis.call('HINCRBY', KEYS[19], path, 1)
      if ARGV[9] ~= '' then
        redis.call('HSET', KEYS[20], path, ARGV[9])
      end
      for i = 21, 24 do
        redis.call('ZINCRBY', KEYS[i], 1, path)
        redis.call('PEXPIRE', KEYS[i], ARGV[i - 10])
      end
      keep_month_top(KEYS[23], KEYS[28], ARGV[22], ARGV[23])
    end
  end
  redis.call('SET', KEYS[16], counted, 'EX', tonumber(ARGV[15]))
end

local views = tonumber(redis.call('HGET', KEYS[19], path)) or 0
return {1, counted, views, dropped, read_stats(tonumber(ARGV[16]))}
