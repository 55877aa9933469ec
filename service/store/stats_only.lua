-- stats: the stats object of one site in one round trip (also a bot's hit: nothing counted).
-- KEYS[1..14] and ARGV[1..4] as read_stats (stats.lua)
-- KEYS[15] (optional) pages hash path -> views   ARGV[5] max age (ms) of cached uniques
-- ARGV[6] the path whose views to return
-- Without KEYS[15] uniques are counted afresh and nothing is written (GET stats).
-- Returns {stats, views of the path (0 without one)}
if KEYS[15] then
  local views = tonumber(redis.call('HGET', KEYS[15], ARGV[6])) or 0
  return {read_stats(tonumber(ARGV[5])), views}
end
return {read_stats(0), 0}
