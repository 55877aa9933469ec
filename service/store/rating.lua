-- rating: check and record one rating of a page atomically, in one round trip
-- (over_limit: limit.lua; ticket_used, spend_ticket, allowance_spent: single_use.lua).
-- KEYS[1] the page table's paths hash (page id -> path): only a tracked page can be rated
-- KEYS[2] raters: sorted set keyed hash of (site, page, browser token) -> forget at (ms)
-- KEYS[3] used ticket nonces: sorted set nonce -> forget at (ms)
-- KEYS[4] this month's allowances: hash keyed hash of (page, address unit | /48) -> ratings
-- KEYS[5] rate counter of (site, address unit, window)
-- KEYS[6], KEYS[7], KEYS[8]   counts hashes of the month, the year and all time
-- KEYS[9], KEYS[10], KEYS[11] page id -> ratings sorted sets of the month, year, all time
-- ARGV[1] JSON object, decoded once:
--   now (ms), page (page id), nonce, forget_ms (when the used nonce may go),
--   rater ('' without a browser token), rater_until (ms: the guard is kept 90 days),
--   address, network ('' for IPv4: no network allowance), per_address, per_network,
--   useful (true|false), reasons (ids; only with useful false), all_reasons (ids, the reply's
--   order), rate_allowed, rate_window_ms, month_expire_at, year_expire_at,
--   allowance_expire_at (unix ms)
-- Returns {'ok', {useful, not_useful, <each of all_reasons>}} (the page's all-time counts), or
--   {'missing'} (page not tracked), {'duplicate'} (this browser rated it), {'used'} (ticket
--   already used), {'limited'} (address or network allowance spent), {'ratelimited', ms}.
local a = cjson.decode(ARGV[1])
local wait = over_limit(KEYS[5], a.rate_allowed, a.rate_window_ms)
if wait then
  return {'ratelimited', wait}
end
if redis.call('HEXISTS', KEYS[1], a.page) == 0 then
  return {'missing'}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', a.now)
if a.rater ~= '' and redis.call('ZSCORE', KEYS[2], a.rater) then
  return {'duplicate'}
end
if ticket_used(KEYS[3], a.nonce, a.now) then
  return {'used'}
end
if allowance_spent(KEYS[4], a.address, a.per_address)
    or allowance_spent(KEYS[4], a.network, a.per_network) then
  return {'limited'}
end

if a.rater ~= '' then
  redis.call('ZADD', KEYS[2], a.rater_until, a.rater)
end
spend_ticket(KEYS[3], a.nonce, a.forget_ms)
redis.call('HINCRBY', KEYS[4], a.address, 1)
if a.network ~= '' then
  redis.call('HINCRBY', KEYS[4], a.network, 1)
end
redis.call('PEXPIREAT', KEYS[4], a.allowance_expire_at)

local kind = a.useful and 'u' or 'n'
for i = 0, 2 do
  local counts, pages = KEYS[6 + i], KEYS[9 + i]
  redis.call('HINCRBY', counts, kind, 1)
  redis.call('HINCRBY', counts, a.page .. ':' .. kind, 1)
  for _, reason in ipairs(a.reasons) do
    redis.call('HINCRBY', counts, 'r:' .. reason, 1)
    redis.call('HINCRBY', counts, a.page .. ':r:' .. reason, 1)
  end
  redis.call('ZINCRBY', pages, 1, a.page)
end
-- a month's and a year's counts are kept 13 months after their period ends; all time forever
for i, at in ipairs({a.month_expire_at, a.year_expire_at}) do
  redis.call('PEXPIREAT', KEYS[5 + i], at)
  redis.call('PEXPIREAT', KEYS[8 + i], at)
end

local fields = {a.page .. ':u', a.page .. ':n'}
for _, reason in ipairs(a.all_reasons) do
  fields[#fields + 1] = a.page .. ':r:' .. reason
end
return {'ok', redis.call('HMGET', KEYS[8], unpack(fields))}
