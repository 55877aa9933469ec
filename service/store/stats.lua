-- The figures of one site: shared by stats_only.lua and hit.lua (prepended, after named.lua,
-- when the scripts are registered). Named keys (K) and arguments (A), built by
-- service/store/counters.py (stat_keys, stat_args):
-- K.online     zset visitor -> last activity (ms); online = those inside the online window
-- K.total, K.year, K.month, K.week   hashes {v, p} (visits, pageviews)
-- K.history    hash of the local year, fields MM-DD:v|p|u
-- K.u_day, K.u_week, K.u_month, K.u_year   HyperLogLogs of the periods
-- K.imported   baselines hash      K.uniques_cache   hash {ts, day, d, w, m, y}
-- K.u_yesterday   yesterday's HyperLogLog
-- K.history_yesterday   yesterday's history hash (its year may be the previous one)
-- A.now (ms)   A.window  online window (ms)   A.day  today's history field (MM-DD)
-- A.yesterday  yesterday's history field
-- Figures: {online, today v, today p, week v, week p, month v, month p, year v, year p,
--   total v, total p, uniques of day, week, month, year, baselines as a flat list}
-- (service/store/counters.py Figures.from_reply decodes it).

-- `max_age` (ms): how old cached uniques may be; 0 counts them afresh and writes nothing
-- (GET stats stays read only). PFCOUNT of four dense HyperLogLogs that change on every new
-- visitor was most of a hit's Redis time, and uniques are estimates anyway, so the hit path
-- reuses counts up to a few seconds old; it also keeps the day's history figure, and settles
-- yesterday's final one on the first hit of a new day. Returns the four counts and whether
-- the cache was refreshed (hit.lua does its rare upkeep then).
local function uniques(now, max_age)
  local day = A.day
  local hlls = {K.u_day, K.u_week, K.u_month, K.u_year}
  if max_age <= 0 then
    local fresh = {}
    for i = 1, 4 do
      fresh[i] = redis.call('PFCOUNT', hlls[i])
    end
    return fresh, false
  end
  local c = redis.call('HMGET', K.uniques_cache, 'ts', 'day', 'd', 'w', 'm', 'y')
  if c[1] and c[2] == day and now - tonumber(c[1]) < max_age
      and now >= tonumber(c[1]) then
    return {tonumber(c[3]), tonumber(c[4]), tonumber(c[5]), tonumber(c[6])}, false
  end
  if c[2] and c[2] ~= day then
    -- first count of a new day: settle yesterday's figure in its history hash
    local y = redis.call('PFCOUNT', K.u_yesterday)
    if y > 0 then
      redis.call('HSET', K.history_yesterday, A.yesterday .. ':u', y)
    end
  end
  local u = {}
  for i = 1, 4 do
    u[i] = redis.call('PFCOUNT', hlls[i])
  end
  redis.call('HSET', K.uniques_cache, 'ts', now, 'day', day, 'd', u[1], 'w', u[2], 'm', u[3],
             'y', u[4])
  redis.call('PEXPIRE', K.uniques_cache, 172800000)
  if u[1] > 0 then
    redis.call('HSET', K.history, day .. ':u', u[1])
  end
  return u, true
end

-- visits and pageviews of today, the week, month, year and in total, as stored
local function read_counts()
  local today = redis.call('HMGET', K.history, A.day .. ':v', A.day .. ':p')
  local out = {tonumber(today[1]) or 0, tonumber(today[2]) or 0}
  for _, key in ipairs({K.week, K.month, K.year, K.total}) do
    local vp = redis.call('HMGET', key, 'v', 'p')
    table.insert(out, tonumber(vp[1]) or 0)
    table.insert(out, tonumber(vp[2]) or 0)
  end
  return out
end

-- the figures list (layout above) from the counts and uniques already known
local function figures_of(counts, u)
  local out = {redis.call('ZCOUNT', K.online, A.now - A.window, '+inf')}
  for _, n in ipairs(counts) do
    table.insert(out, n)
  end
  for _, n in ipairs(u) do
    table.insert(out, n)
  end
  table.insert(out, redis.call('HGETALL', K.imported))
  return out
end

local function read_stats(max_age)
  local counts = read_counts()
  return figures_of(counts, (uniques(A.now, max_age)))
end
