-- stats: the figures of one site in one round trip (also a bot's hit: nothing counted but
-- the rate limit). Named keys and arguments (named.lua), built by service/store/counters.py
-- (stats_call, peek_call):
-- K.* and A.* of the figures as stats.lua lists them
-- For a bot's hit only: K.views  page views zset   K.rate  rate counter of the window
--   A.uniques_max_age (ms) of cached uniques   A.page  page id
--   A.rate_allowed  requests per window   A.rate_window (ms)
-- Without K.views uniques are counted afresh and nothing is written (GET stats).
-- Returns {figures, views of the page (0 without one)} | {-2, ms until the rate window ends}
if K.views then
  local wait = over_limit(K.rate, A.rate_allowed, A.rate_window, A.now)
  if wait then
    return {-2, wait}
  end
  local views = tonumber(redis.call('ZSCORE', K.views, A.page)) or 0
  return {read_stats(A.uniques_max_age), views}
end
return {read_stats(0), 0}
