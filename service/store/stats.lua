-- read_stats: shared by stats.lua and hit.lua (prepended when the scripts are registered).
-- KEYS[1] online zset        KEYS[2] total hash {v,p}    KEYS[3] year hash {v,p}
-- KEYS[4] month hash {v,p}    KEYS[5] week hash {v,p}     KEYS[6] history hash of the year
-- KEYS[7..10] HyperLogLogs of day, week, month, year       KEYS[11] imported baselines hash
-- KEYS[12] uniques cache      KEYS[13] yesterday's HyperLogLog
-- KEYS[14] yesterday's history hash (its year may be the previous one)
-- ARGV[1] now (ms)   ARGV[2] online window (ms)   ARGV[3] today's history field (MM-DD)
-- ARGV[4] yesterday's history field
-- `max_age` (ms): how old cached uniques may be; 0 counts them afresh and writes nothing
-- (GET stats stays read only). PFCOUNT of four dense HyperLogLogs that change on every new
-- visitor was most of a hit's Redis time, and uniques are estimates anyway, so the hit path
-- reuses counts up to a few seconds old; it also keeps the day's history figure, and settles
-- yesterday's final one on the first hit of a new day.
local function uniques(now, max_age)
  local day = ARGV[3]
  if max_age <= 0 then
    local fresh = {}
    for i = 7, 10 do
      table.insert(fresh, redis.call('PFCOUNT', KEYS[i]))
    end
    return fresh
  end
  local c = redis.call('HMGET', KEYS[12], 'ts', 'day', 'd', 'w', 'm', 'y')
  if c[1] and c[2] == day and now - tonumber(c[1]) < max_age
      and now >= tonumber(c[1]) then
    return {tonumber(c[3]), tonumber(c[4]), tonumber(c[5]), tonumber(c[6])}
  end
  if c[2] and c[2] ~= day then
    -- first count of a new day: settle yesterday's figure in its history hash
    local y = redis.call('PFCOUNT', KEYS[13])
    if y > 0 then
      redis.call('HSET', KEYS[14], ARGV[4] .. ':u', y)
    end
  end
  local u = {}
  for i = 7, 10 do
    table.insert(u, redis.call('PFCOUNT', KEYS[i]))
  end
  redis.call('HSET', KEYS[12], 'ts', now, 'day', day, 'd', u[1], 'w', u[2], 'm', u[3], 'y', u[4])
  redis.call('PEXPIRE', KEYS[12], 172800000)
  if u[1] > 0 then
    redis.call('HSET', KEYS[6], day .. ':u', u[1])
  end
  return u
end

local function read_stats(max_age)
  local now = tonumber(ARGV[1])
  local out = {redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[2]), '+inf')}
  local today = redis.call('HMGET', KEYS[6], ARGV[3] .. ':v', ARGV[3] .. ':p')
  table.insert(out, tonumber(today[1]) or 0)
  table.insert(out, tonumber(today[2]) or 0)
  for _, key in ipairs({KEYS[5], KEYS[4], KEYS[3], KEYS[2]}) do
    local vp = redis.call('HMGET', key, 'v', 'p')
    table.insert(out, tonumber(vp[1]) or 0)
    table.insert(out, tonumber(vp[2]) or 0)
  end
  for _, n in ipairs(uniques(now, max_age)) do
    table.insert(out, n)
  end
  table.insert(out, redis.call('HGETALL', KEYS[11]))
  return out
end
