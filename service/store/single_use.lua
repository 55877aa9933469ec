-- Single-use tickets and per-address allowances, shared by vote.lua and rating.lua
-- (prepended to them, after named.lua): each function takes its key and values from the
-- caller's named keys and arguments (K.nonces, A.nonce, ...), nothing by position.
-- ticket_used: whether a ticket's nonce was used; forgets the nonces of expired tickets first.
-- `key` a sorted set nonce -> when it may be forgotten (ms); `now` in ms.
local function ticket_used(key, nonce, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  return redis.call('ZSCORE', key, nonce) ~= false
end

-- spend_ticket: record the nonce as used until `forget_ms` (the ticket's expiry, with margin).
local function spend_ticket(key, nonce, forget_ms)
  redis.call('ZADD', key, forget_ms, nonce)
end

-- allowance_spent: whether `field` (a keyed hash of a client address unit or network) of the
-- hash `key` has already been counted `allowed` times. An empty field has no allowance.
local function allowance_spent(key, field, allowed)
  if field == '' then
    return false
  end
  return tonumber(redis.call('HGET', key, field) or '0') >= allowed
end
