-- merge_read_hll: the source's HyperLogLogs as hex text (the client decodes replies as UTF-8,
-- and a HyperLogLog is binary), to be merged into the target's in its own slot.
-- KEYS[1..n] the source's HyperLogLogs (one slot)
-- Returns one hex string per key ('' when the key does not exist).
local out = {}
for i = 1, #KEYS do
  local raw = redis.call('GET', KEYS[i])
  if raw then
    out[i] = string.gsub(raw, '.', function(c)
      return string.format('%02x', string.byte(c))
    end)
  else
    out[i] = ''
  end
end
return out
