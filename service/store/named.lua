-- named arguments (service/store/scripts.py, Call): ARGV[1] is one msgpack table whose `_keys`
-- lists the names of KEYS in order (the keys themselves stay in KEYS, so a cluster routes the
-- call); A.<name> is an argument, K.<name> a key. Decoded once, before the script's body.
local A = cmsgpack.unpack(ARGV[1])
local K = {}
for i, name in ipairs(A._keys) do
  K[name] = KEYS[i]
end
