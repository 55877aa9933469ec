-- check_claim: take the site's next due page check, at most ARGV[3] a second for the site;
-- deduplicated across workers and instances (the claimed check moves ARGV[2] ms ahead, so
-- it is retried if its fetcher dies, and no one else takes it meanwhile).
-- KEYS[1] check queue zset id->due (ms)   KEYS[2] paths hash   KEYS[3] candidates hash
-- KEYS[4] fetches started in this second (counter)   KEYS[5] check tries hash
-- ARGV[1] now (ms)   ARGV[2] lease (ms)   ARGV[3] fetches allowed a second
-- Returns {1, id, path, tries so far} | {0, ms until the next check is due, -1 when none} |
--         {-2} the site's fetch rate is used up this second | {-1} the page is gone
local now = tonumber(ARGV[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then
  return {0, -1}
end
local due = tonumber(first[2])
if due > now then
  return {0, due - now}
end
local started = redis.call('INCR', KEYS[4])
if started == 1 then
  redis.call('PEXPIRE', KEYS[4], 2000)
end
if started > tonumber(ARGV[3]) then
  return {-2}
end
local id = first[1]
local path = redis.call('HGET', KEYS[2], id) or redis.call('HGET', KEYS[3], id)
if not path then
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[5], id)
  return {-1}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
return {1, id, path, tonumber(redis.call('HGET', KEYS[5], id) or '0')}
