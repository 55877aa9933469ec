-- read_stats: shared by stats.lua and hit.lua (prepended when the scripts are registered).
-- KEYS[1] online zset        KEYS[2] total hash {v,p}    KEYS[3] year hash {v,p}
-- KEYS[4] month hash {v,p}    KEYS[5] week hash {v,p}     KEYS[6] history hash of the year
-- KEYS[7..10] HyperLogLogs of day, week, month, year       KEYS[11] imported baselines hash
-- ARGV[1] now (ms)   ARGV[2] online window (ms)   ARGV[3] today's history field prefix (MM-DD)
local function read_stats()
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
  for i = 7, 10 do
    table.insert(out, redis.call('PFCOUNT', KEYS[i]))
  end
  table.insert(out, redis.call('HGETALL', KEYS[11]))
  return out
end
