-- over_limit: a fixed-window request counter of one client address unit, kept in the site's
-- hash slot so the limit costs no round trip of its own (prepended to the scripts that use it).
-- `key` names the window (its index is part of the name), `allowed` requests per window.
-- Returns nil while within the allowance, else the milliseconds until the window ends.
local function over_limit(key, allowed, window_ms)
  local n = redis.call('INCR', key)
  if n == 1 then
    redis.call('PEXPIRE', key, window_ms)
  end
  if n > allowed then
    return math.max(redis.call('PTTL', key), 1)
  end
  return nil
end
