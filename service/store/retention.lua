-- keep_month_top: the month's top-pages list outlives the month for reports; prepended to
-- hit.lua when the scripts are registered (service/store/scripts.py), called once per
-- counted page view after the period lists were incremented.
-- `month_top`: this month's sorted set path -> views; its lifetime becomes `keep_ms` (13
--   months after the month ends, instead of the other period lists' few days)
-- `previous_top`: last month's list: once that month has ended it is trimmed to its
--   `keep_n` most viewed paths (ZCARD is O(1), so the check costs nothing after the trim)
local function keep_month_top(month_top, previous_top, keep_ms, keep_n)
  redis.call('PEXPIRE', month_top, keep_ms)
  local n = tonumber(keep_n)
  if redis.call('ZCARD', previous_top) > n then
    redis.call('ZREMRANGEBYRANK', previous_top, 0, -(n + 1))
  end
end
