-- count_source: a new visit's source ("Nguồn truy cập"), called by hit.lua where a new visit
-- is counted; prepended to hit.lua when the scripts are registered (service/store/scripts.py).
-- `daily`: hash of the local year, field MM-DD:<category> += 1
-- `hosts`: sorted set of the month, host -> visits; at most `max_hosts` members: a new host
--   takes the place of the least counted one (ties: the first in byte order), so the list
--   stays bounded whatever referrers clients send and the hosts that matter stay exact
-- `category`: direct, search, social, gov or other ('' = internal: not a source, nothing
--   counted)   `host`: '' for none (direct, or a referrer without a usable host name)
-- `daily_ms`, `hosts_ms`: lifetimes (ms from now) of the two keys (expire_new, expiry.lua)
local function count_source(daily, hosts, field_day, category, host, max_hosts, daily_ms,
                            hosts_ms)
  if category == '' then
    return
  end
  expire_new(daily, redis.call('HINCRBY', daily, field_day .. ':' .. category, 1), daily_ms)
  if host == '' or category == 'direct' then
    return
  end
  if not redis.call('ZSCORE', hosts, host)
      and redis.call('ZCARD', hosts) >= tonumber(max_hosts) then
    redis.call('ZPOPMIN', hosts)
  end
  expire_new(hosts, tonumber(redis.call('ZINCRBY', hosts, 1, host)), hosts_ms)
end
