-- vote: check and record one ballot atomically, in one round trip (over_limit: limit.lua;
-- ticket_used, spend_ticket, allowance_spent: single_use.lua; A and K: named.lua).
-- Built by service/store/polls.py `vote` (one Call).
-- K.poll      the poll definition (JSON)        K.tally   hash option -> votes, `_total`
-- K.voters    set of voter hashes               K.ips     hash address hash -> ballots
-- K.nonces    sorted set used nonce -> forget at (ms)
-- K.rate      attempt counter of (site, address unit, window)
-- K.rate48    attempt counter of (site, the client's IPv6 /48, window); IPv4: absent
-- A.now (ms)  A.nonce (the ticket's)  A.forget_ms (when the used nonce may go)
-- A.voter     keyed hash of the browser token ('' = none)
-- A.ip        keyed hash of the address unit in this poll   A.max_per_ip ballots it may cast
-- A.network   keyed hash of the IPv6 /48 in this poll ('' = none: IPv4)
-- A.max_per_network  ballots the /48 together may cast
-- A.rate_allowed, A.rate_window_ms   attempts per window of the address unit
-- A.rate48_allowed                   attempts per window of the /48
-- A.options   the chosen option ids (a list)
-- Returns {'ok', tally flat list, definition JSON} or {'missing'|'closed'|'scheduled'|
--          'duplicate'|'used'|'limited'|'unknown'|'toomany'} or {'ratelimited', ms to wait};
--          options are checked here, so the caller needs no read of its own before voting.
local wait = over_limit(K.rate, A.rate_allowed, A.rate_window_ms, A.now)
if not wait and K.rate48 then
  wait = over_limit(K.rate48, A.rate48_allowed, A.rate_window_ms, A.now)
end
if wait then
  return {'ratelimited', wait}
end
local raw = redis.call('GET', K.poll)
if not raw then
  return {'missing'}
end
local poll = cjson.decode(raw)
local now = A.now
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
local options = A.options
local chosen = {}
for _, option in ipairs(options) do
  if not known[option] or chosen[option] then
    return {'unknown'}
  end
  chosen[option] = true
end
if #options == 0 then
  return {'unknown'}
end
if #options > poll.max_choices then
  return {'toomany'}
end
if A.voter ~= '' and redis.call('SISMEMBER', K.voters, A.voter) == 1 then
  return {'duplicate'}
end
if ticket_used(K.nonces, A.nonce, now) then
  return {'used'}
end
if allowance_spent(K.ips, A.ip, A.max_per_ip)
    or allowance_spent(K.ips, A.network, A.max_per_network) then
  return {'limited'}
end
if A.voter ~= '' then
  redis.call('SADD', K.voters, A.voter)
end
spend_ticket(K.nonces, A.nonce, A.forget_ms)
redis.call('HINCRBY', K.ips, A.ip, 1)
if A.network ~= '' then
  redis.call('HINCRBY', K.ips, A.network, 1)
end
for _, option in ipairs(options) do
  redis.call('HINCRBY', K.tally, option, 1)
end
redis.call('HINCRBY', K.tally, '_total', 1)
return {'ok', redis.call('HGETALL', K.tally), raw}
