-- rating: check and record one rating of a page atomically, in one round trip
-- (over_limit: limit.lua; ticket_used, spend_ticket, allowance_spent: single_use.lua;
-- A and K: named.lua). Built by service/store/ratings.py `rate` (one Call).
-- K.paths      the page table's paths hash (page id -> path): only a tracked page is rated
-- K.raters     sorted set keyed hash of (site, page, browser token) -> forget at (ms)
-- K.nonces     used ticket nonces: sorted set nonce -> forget at (ms)
-- K.allowance  this month's allowances: hash keyed hash of (page, address unit | /48) -> n
-- K.rate       attempt counter of (site, address unit, window)
-- K.counts_month, K.counts_year, K.counts_all   counts hashes of the month, year, all time
-- K.pages_month, K.pages_year, K.pages_all      page id -> ratings sorted sets of the same
-- A.now (ms), A.page (page id), A.nonce, A.forget_ms (when the used nonce may go),
-- A.rater ('' without a browser token), A.rater_until (ms: the guard is kept 90 days),
-- A.address, A.network ('' for IPv4: no network allowance), A.per_address, A.per_network,
-- A.useful (true|false), A.reasons (ids; only with useful false), A.all_reasons (ids, the
-- reply's order), A.rate_allowed, A.rate_window_ms, A.month_expire_at, A.year_expire_at,
-- A.allowance_expire_at (unix ms)
-- Returns {'ok', {useful, not_useful, <each of all_reasons>}} (the page's all-time counts), or
--   {'missing'} (page not tracked), {'duplicate'} (this browser rated it), {'used'} (ticket
--   already used), {'limited'} (address or network allowance spent), {'ratelimited', ms}.
local wait = over_limit(K.rate, A.rate_allowed, A.rate_window_ms, A.now)
if wait then
  return {'ratelimited', wait}
end
if redis.call('HEXISTS', K.paths, A.page) == 0 then
  return {'missing'}
end
redis.call('ZREMRANGEBYSCORE', K.raters, '-inf', A.now)
if A.rater ~= '' and redis.call('ZSCORE', K.raters, A.rater) then
  return {'duplicate'}
end
if ticket_used(K.nonces, A.nonce, A.now) then
  return {'used'}
end
if allowance_spent(K.allowance, A.address, A.per_address)
    or allowance_spent(K.allowance, A.network, A.per_network) then
  return {'limited'}
end

if A.rater ~= '' then
  redis.call('ZADD', K.raters, A.rater_until, A.rater)
end
spend_ticket(K.nonces, A.nonce, A.forget_ms)
redis.call('HINCRBY', K.allowance, A.address, 1)
if A.network ~= '' then
  redis.call('HINCRBY', K.allowance, A.network, 1)
end
redis.call('PEXPIREAT', K.allowance, A.allowance_expire_at)

local kind = A.useful and 'u' or 'n'
local buckets = {'month', 'year', 'all'}
local expire_at = {A.month_expire_at, A.year_expire_at}
for i = 0, 2 do
  local counts, pages = K['counts_' .. buckets[i + 1]], K['pages_' .. buckets[i + 1]]
  local n = redis.call('HINCRBY', counts, kind, 1)
  -- a month's and a year's keys are kept 13 months after their period ends (all time:
  -- forever). Both keys of a bucket are created by its first rating, whose count is 1; the
  -- instant is absolute, so setting it again every 64th rating only heals a lost expiry.
  if expire_at[i + 1] and (n == 1 or n % 64 == 0) then
    redis.call('PEXPIREAT', counts, expire_at[i + 1])
    redis.call('PEXPIREAT', pages, expire_at[i + 1])
  end
  redis.call('HINCRBY', counts, A.page .. ':' .. kind, 1)
  for _, reason in ipairs(A.reasons) do
    redis.call('HINCRBY', counts, 'r:' .. reason, 1)
    redis.call('HINCRBY', counts, A.page .. ':r:' .. reason, 1)
  end
  redis.call('ZINCRBY', pages, 1, A.page)
end
local fields = {A.page .. ':u', A.page .. ':n'}
for _, reason in ipairs(A.all_reasons) do
  fields[#fields + 1] = A.page .. ':r:' .. reason
end
return {'ok', redis.call('HMGET', K.counts_all, unpack(fields))}
