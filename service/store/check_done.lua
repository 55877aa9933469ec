-- check_done: what a fetch of a page found (verified, rejected, failed), applied atomically.
-- KEYS[1..15] the page keys of track_page (pages.lua k[1..15]), rank zsets of the periods
--   that contain ARGV[3]
-- ARGV[1] page id   ARGV[2] verified | rejected | failed   ARGV[3] now (ms)
-- ARGV[4] the page's title ('' = it has none)   ARGV[5] when to try again (ms; failed)
-- ARGV[6] max pages   ARGV[7] '1' when the path may appear in top lists (page_prefixes)
-- ARGV[8..11] lifetimes (ms from now) of the day, week, month and year rank zsets
-- Returns {1, pages evicted to make room} | {0, 0} when the page is no longer there.
local k = KEYS
local id, outcome, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local tracked = redis.call('ZSCORE', k[1], id) ~= false
local candidate = redis.call('HGET', k[12], id)
if not tracked and not candidate then
  redis.call('ZREM', k[13], id)
  redis.call('HDEL', k[14], id)
  return {0, 0}
end
if outcome == 'failed' then
  redis.call('ZADD', k[13], 'XX', tonumber(ARGV[5]), id)
  redis.call('HINCRBY', k[14], id, 1)
  return {1, 0}
end
redis.call('ZREM', k[13], id)
redis.call('HDEL', k[14], id)
local raw = redis.call('HGET', k[10], id) or ''
local state, _, seen = string.match(raw, '^(%a)|(%d+)|(%x*)$')
seen = seen or ''
local evicted = 0
if outcome == 'rejected' then
  if candidate then
    -- not asked again for a day; the newest 10,000 rejections are remembered
    redis.call('HDEL', k[12], id)
    redis.call('ZADD', k[15], now, id)
    if redis.call('ZCARD', k[15]) > 10000 then
      redis.call('ZREMRANGEBYRANK', k[15], 0, 0)
    end
    return {1, 0}
  end
  if state == 'v' or state == 'l' then
    -- it leaves the lists; views from now on join the ranks only if it is verified again
    redis.call('ZADD', k[11], 0, id)
  end
  redis.call('HSET', k[10], id, 'r|' .. now .. '|' .. seen)
  return {1, 0}
end
-- verified
if not tracked then
  -- a candidate takes the place of the least viewed unverified or rejected page, else of
  -- the least viewed verified page: a verified page is displaced only by a verified page
  while redis.call('ZCARD', k[1]) >= tonumber(ARGV[6]) and evicted < 16 do
    local victim = redis.call('ZRANGE', k[11], 0, 0)[1] or redis.call('ZRANGE', k[1], 0, 0)[1]
    if not victim then
      break
    end
    drop_page(k, victim)
    evicted = evicted + 1
  end
  redis.call('HSET', k[2], id, candidate)
  redis.call('HDEL', k[12], id)
  redis.call('ZADD', k[1], 0, id)
  state = 'u'
end
if state == 'u' or state == 'r' then
  -- the views it had while unverified join the ranks of the current periods
  local unranked = tonumber(redis.call('ZSCORE', k[11], id) or '0')
  if unranked > 0 and ARGV[7] == '1' then
    for i = 6, 9 do
      redis.call('ZINCRBY', k[i], unranked, id)
      if redis.call('PTTL', k[i]) == -1 then
        redis.call('PEXPIRE', k[i], tonumber(ARGV[2 + i]))
      end
    end
  end
end
redis.call('ZREM', k[11], id)
redis.call('HSET', k[10], id, 'v|' .. now .. '|' .. seen)
if redis.call('SISMEMBER', k[5], id) == 0 then
  -- the portal's title wins over anything a client reported (an admin's locked one wins)
  if ARGV[4] ~= '' then
    redis.call('HSET', k[3], id, ARGV[4])
  else
    redis.call('HDEL', k[3], id)
  end
  redis.call('HDEL', k[4], id)
end
return {1, evicted}
