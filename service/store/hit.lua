-- hit: record one page load and return the stats, atomically, in one round trip.
-- KEYS[1..11] as read_stats (stats.lua)
-- KEYS[12] site settings (must exist)   KEYS[13] once marker of this request
-- KEYS[14] visitor's last activity (ms)  KEYS[15] last counted view (ms) of (visitor, path)
-- KEYS[16] pages hash path->views       KEYS[17] titles hash path->title
-- KEYS[18..21] top pages zsets of day, week, month, year
-- KEYS[22] dropped counter (views not tracked per page because of max_pages)
-- ARGV[1..3] as read_stats    ARGV[4] visitor id   ARGV[5] session timeout (s)
-- ARGV[6] dedupe window (s, 0 = none)   ARGV[7] path   ARGV[8] title ('' = keep)
-- ARGV[9] max pages   ARGV[10..13] lifetimes (ms from now) of day, week, month, year keys
-- (relative, so that `now` is a parameter: a test may stand on any date)
-- ARGV[14] once marker lifetime (s)
-- Returns {status (1 ok, -1 unknown site), counted (0/1), page views, dropped (0/1), stats}
if redis.call('EXISTS', KEYS[12]) == 0 then
  return {-1}
end
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local day = ARGV[3]
local visitor = ARGV[4]
local path = ARGV[7]
local counted = 0
local dropped = 0

local previous = redis.call('GET', KEYS[13])
if previous then
  -- a retry of a request that already ran: answer without counting again
  counted = tonumber(previous)
else
  redis.call('ZADD', KEYS[1], now, visitor)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
  redis.call('PEXPIRE', KEYS[1], window)

  -- markers hold the time (ms) they were set, so the rules follow `now`, not Redis's clock;
  -- their expiry only cleans up
  local dedupe = tonumber(ARGV[6]) * 1000
  local viewed = tonumber(redis.call('GET', KEYS[15]))
  if dedupe <= 0 or not viewed or now - viewed >= dedupe then
    counted = 1
    if dedupe > 0 then
      redis.call('SET', KEYS[15], now, 'PX', dedupe)
    end
  end
  local timeout = tonumber(ARGV[5]) * 1000
  local seen = tonumber(redis.call('GET', KEYS[14]))
  local new_visit = (not seen) or (now - seen >= timeout)
  redis.call('SET', KEYS[14], now, 'PX', timeout)
  if counted == 1 then
    local fields = {'p'}
    if new_visit then
      table.insert(fields, 'v')
    end
    for _, field in ipairs(fields) do
      redis.call('HINCRBY', KEYS[2], field, 1)
      redis.call('HINCRBY', KEYS[6], day .. ':' .. field, 1)
      redis.call('HINCRBY', KEYS[5], field, 1)
      redis.call('HINCRBY', KEYS[4], field, 1)
      redis.call('HINCRBY', KEYS[3], field, 1)
    end
    redis.call('PEXPIRE', KEYS[5], ARGV[11])
    redis.call('PEXPIRE', KEYS[4], ARGV[12])
    redis.call('PEXPIRE', KEYS[3], ARGV[13])
    for i = 7, 10 do
      local changed = redis.call('PFADD', KEYS[i], visitor)
      redis.call('PEXPIRE', KEYS[i], ARGV[3 + i])
      if i == 7 and changed == 1 then
        redis.call('HSET', KEYS[6], day .. ':u', redis.call('PFCOUNT', KEYS[7]))
      end
    end

    if redis.call('HEXISTS', KEYS[16], path) == 0
        and redis.call('HLEN', KEYS[16]) >= tonumber(ARGV[9]) then
      dropped = 1
      redis.call('INCR', KEYS[22])
    else
      redis.call('HINCRBY', KEYS[16], path, 1)
      if ARGV[8] ~= '' then
        redis.call('HSET', KEYS[17], path, ARGV[8])
      end
      for i = 18, 21 do
        redis.call('ZINCRBY', KEYS[i], 1, path)
        redis.call('PEXPIRE', KEYS[i], ARGV[i - 8])
      end
    end
  end
  redis.call('SET', KEYS[13], counted, 'EX', tonumber(ARGV[14]))
end

local views = tonumber(redis.call('HGET', KEYS[16], path)) or 0
return {1, counted, views, dropped, read_stats()}
