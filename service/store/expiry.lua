-- expire_new: a time-bucketed key's lifetime, set where a write may have created the key
-- (prepended to the scripts that use it). The lifetime ends at a fixed moment (the end of
-- the key's period plus its grace), so setting it again on every write changes nothing but
-- costs a command per key per hit.
-- `count`: what the write answered: a counter's new value, a member's new score, PFADD's 1
--   when it changed the HyperLogLog. 1 means the write may have created the key: the
--   lifetime is set; every EXPIRE_EVERY-th count sets it again, so that a key another writer
--   left without one (none should) gets it back soon.
local EXPIRE_EVERY = 64

local function expire_new(key, count, lifetime_ms)
  if count == 1 or (count > 0 and count % EXPIRE_EVERY == 0) then
    redis.call('PEXPIRE', key, lifetime_ms)
  end
end
