-- keep_month_top: the month's top-pages list outlives the month for reports (hit.lua gives
-- this month's list its 13-month lifetime when track_page increments it); prepended to
-- hit.lua when the scripts are registered (service/store/scripts.py), called once per
-- counted page view.
-- `previous_top`: last month's list: once that month has ended it is trimmed to its
--   `keep_n` most viewed pages (ZCARD is O(1), so the check costs nothing after the trim)
local function keep_month_top(previous_top, keep_n)
  local n = tonumber(keep_n)
  if redis.call('ZCARD', previous_top) > n then
    redis.call('ZREMRANGEBYRANK', previous_top, 0, -(n + 1))
  end
end
