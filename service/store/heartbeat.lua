-- heartbeat: keep a visitor who is still reading online and their visit open; never adds
-- a visitor, counts nothing but its rate limit. Named keys and arguments (named.lua), built
-- by service/store/counters.py (heartbeat_call):
-- K.online  zset visitor -> last activity (ms): online and the open visit (hit.lua)
-- K.rate    rate counter of (site, address unit, window)
-- A.now (ms)   A.visitor   A.session_ms  session timeout   A.keep_ms  lifetime of K.online
-- A.rate_allowed  requests per window   A.rate_window (ms)
-- Only a visitor whose visit is still open (last activity less than the session timeout
-- ago, by `now`) is refreshed: a visit that ended is not brought back by a heartbeat.
-- Returns {1} | {-2, ms until the rate window ends}
local wait = over_limit(K.rate, A.rate_allowed, A.rate_window, A.now)
if wait then
  return {-2, wait}
end
local seen = tonumber(redis.call('ZSCORE', K.online, A.visitor))
if seen and A.now - seen < A.session_ms then
  redis.call('ZADD', K.online, 'XX', A.now, A.visitor)
  redis.call('PEXPIRE', K.online, A.keep_ms)
end
return {1}
