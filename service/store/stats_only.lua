-- stats: the stats object of one site in one round trip, uniques counted afresh.
-- KEYS and ARGV as read_stats (stats.lua).
return read_stats(0)
