-- over_limit: a fixed-window request counter of one client address unit, kept in the site's
-- hash slot so the limit costs no round trip of its own (prepended to the scripts that use it).
-- `key` names the window (its index, now_ms // window_ms, is part of the name), `allowed`
-- requests per window. The counter lives until its window ends by `now_ms` (the caller's
-- clock, as everything here), so Retry-After is the rest of the window, not a minute from
-- the window's first request.
-- Returns nil while within the allowance, else the milliseconds until the window ends.
local function over_limit(key, allowed, window_ms, now_ms)
  local rest = math.max(window_ms - (now_ms % window_ms), 1)
  local n = redis.call('INCR', key)
  if n == 1 then
    redis.call('PEXPIRE', key, rest)
  end
  if n > allowed then
    return rest
  end
  return nil
end
