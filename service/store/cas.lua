-- cas: replace a JSON document only if it is still what the caller read (optimistic update).
-- KEYS[1] the document   ARGV[1] the value read ('' when it did not exist)   ARGV[2] new value
-- Returns 1 when replaced, 0 when someone else changed it meanwhile.
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
