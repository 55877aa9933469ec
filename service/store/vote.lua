-- vote: check and record one ballot atomically, in one round trip (over_limit: limit.lua;
-- ticket_used, spend_ticket, allowance_spent: single_use.lua).
-- KEYS[1] poll definition (JSON)   KEYS[2] tally hash option->votes, `_total` ballots
-- KEYS[3] set of voter hashes      KEYS[4] hash IP hash -> ballots   KEYS[5] zset used nonces
-- KEYS[6] rate counter of (site, address unit, window)
-- ARGV[1] now (ms)   ARGV[2] ticket nonce   ARGV[3] nonce forget-after (ms)
-- ARGV[4] voter hash ('' = no browser token)   ARGV[5] IP hash   ARGV[6] max ballots per IP
-- ARGV[7] attempts allowed per rate window   ARGV[8] rate window (ms)
-- ARGV[9..] chosen option ids
-- Returns {'ok', tally flat list, definition JSON} or {'missing'|'closed'|'scheduled'|
--          'duplicate'|'used'|'limited'|'unknown'|'toomany'} or {'ratelimited', ms to wait};
--          options are checked here, so the caller needs no read of its own before voting.
local wait = over_limit(KEYS[6], tonumber(ARGV[7]), tonumber(ARGV[8]))
if wait then
  return {'ratelimited', wait}
end
local raw = redis.call('GET', KEYS[1])
if not raw then
  return {'missing'}
end
local poll = cjson.decode(raw)
local now = tonumber(ARGV[1])
if poll.opens_ms ~= cjson.null and now < poll.opens_ms then
  return {'scheduled'}
end
if poll.closes_ms ~= cjson.null and now >= poll.closes_ms then
  return {'closed'}
end
local known = {}
for _, option in ipairs(poll.options) do
  known[option.id] = true
end
local chosen = {}
for i = 9, #ARGV do
  if not known[ARGV[i]] or chosen[ARGV[i]] then
    return {'unknown'}
  end
  chosen[ARGV[i]] = true
end
if #ARGV < 9 then
  return {'unknown'}
end
if #ARGV - 8 > poll.max_choices then
  return {'toomany'}
end
if ARGV[4] ~= '' and redis.call('SISMEMBER', KEYS[3], ARGV[4]) == 1 then
  return {'duplicate'}
end
if ticket_used(KEYS[5], ARGV[2], now) then
  return {'used'}
end
if allowance_spent(KEYS[4], ARGV[5], ARGV[6]) then
  return {'limited'}
end
if ARGV[4] ~= '' then
  redis.call('SADD', KEYS[3], ARGV[4])
end
spend_ticket(KEYS[5], ARGV[2], ARGV[3])
redis.call('HINCRBY', KEYS[4], ARGV[5], 1)
for i = 9, #ARGV do
  redis.call('HINCRBY', KEYS[2], ARGV[i], 1)
end
redis.call('HINCRBY', KEYS[2], '_total', 1)
return {'ok', redis.call('HGETALL', KEYS[2]), raw}
