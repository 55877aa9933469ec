-- heartbeat: keep a visitor who is still reading online and their visit open; never adds
-- a visitor, counts nothing but its rate limit.
-- KEYS[1] online zset   KEYS[2] visitor's last activity   KEYS[3] rate counter
-- ARGV[1] now (ms)   ARGV[2] online window (ms)   ARGV[3] visitor id   ARGV[4] session (ms)
-- ARGV[5] allowed per window   ARGV[6] rate window (ms)
-- Returns {1} | {-2, ms until the rate window ends}
local wait = over_limit(KEYS[3], tonumber(ARGV[5]), tonumber(ARGV[6]))
if wait then
  return {-2, wait}
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'XX', 'PX', ARGV[4])
return {1}
