-- stats: read the stats object of one site in one round trip (keys and ARGV as read_stats).
return read_stats()
