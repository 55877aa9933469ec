-- stats: the stats object of one site in one round trip (also a bot's hit: nothing counted
-- but the rate limit).
-- KEYS[1..14] and ARGV[1..4] as read_stats (stats.lua)
-- For a bot's hit: KEYS[15] page views zset   KEYS[16] rate counter
-- ARGV[5] max age (ms) of cached uniques   ARGV[6] page id   ARGV[7] allowed per window
-- ARGV[8] window (ms)
-- Without KEYS[15] uniques are counted afresh and nothing is written (GET stats).
-- Returns {stats, views of the page (0 without one)} | {-2, ms until the rate window ends}
if KEYS[15] then
  local wait = over_limit(KEYS[16], tonumber(ARGV[7]), tonumber(ARGV[8]))
  if wait then
    return {-2, wait}
  end
  local views = tonumber(redis.call('ZSCORE', KEYS[15], ARGV[6])) or 0
  return {read_stats(tonumber(ARGV[5])), views}
end
return {read_stats(0), 0}
