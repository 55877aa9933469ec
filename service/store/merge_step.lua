-- merge_step: one step of merging a site into another, applied to the target's keys exactly
-- once: the step's marker is written in the same script as its writes, so a merge that was
-- interrupted and run again skips what it already did.
-- KEYS[1] the merge's progress hash (target's slot)   KEYS[2..] target keys named by the ops
-- ARGV[1] step name   ARGV[2] now (ms), kept as the step's marker
-- ARGV[3..] operations, each an op name, a KEYS index `k`, then its arguments:
--   HINCRBY k field n      add n to a hash field (totals, period counters, history, baselines)
--   PEXPIRE k ms           expire a time-bucketed key in ms (in the step that may create
--                          it); never shortens a longer lifetime the key already has
--   ZINCRBY k member n     add n to a sorted-set member (referring hosts)
--   ZTRIM k n              keep the n highest members (a bounded list stays bounded)
--   ZMAX k member score    keep the larger score (online set: last activity in ms)
--   PFMERGEHEX k tmp hex   merge a HyperLogLog read from the source (hex) into k, through the
--                          temporary key KEYS[tmp]
--   BASELINE k field n id  add n to an imported period baseline of period `id`; a baseline of
--                          another (ended) period is replaced
-- Returns 1 when applied, 0 when the step had already been done.
local arity = {HINCRBY = 3, PEXPIRE = 2, ZMAX = 3, PFMERGEHEX = 3, BASELINE = 4, ZINCRBY = 3,
               ZTRIM = 2}
-- check every op before writing anything: a script that fails midway keeps its writes
local i = 3
while i <= #ARGV do
  local n = arity[ARGV[i]]
  if not n or not KEYS[tonumber(ARGV[i + 1]) or 0] then
    return redis.error_reply('merge_step: bad operation at ' .. i)
  end
  i = i + 1 + n
end
if i ~= #ARGV + 1 then
  return redis.error_reply('merge_step: truncated operation')
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return 0
end
i = 3
while i <= #ARGV do
  local op, k = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
  if op == 'HINCRBY' then
    redis.call('HINCRBY', k, ARGV[i + 2], ARGV[i + 3])
  elseif op == 'PEXPIRE' then
    local ttl = redis.call('PTTL', k)
    if ttl == -1 or (ttl >= 0 and ttl < tonumber(ARGV[i + 2])) then
      redis.call('PEXPIRE', k, ARGV[i + 2])
    end
  elseif op == 'ZINCRBY' then
    redis.call('ZINCRBY', k, ARGV[i + 3], ARGV[i + 2])
  elseif op == 'ZTRIM' then
    redis.call('ZREMRANGEBYRANK', k, 0, -(tonumber(ARGV[i + 2]) + 1))
  elseif op == 'ZMAX' then
    local score = tonumber(redis.call('ZSCORE', k, ARGV[i + 2]))
    if not score or score < tonumber(ARGV[i + 3]) then
      redis.call('ZADD', k, ARGV[i + 3], ARGV[i + 2])
    end
  elseif op == 'PFMERGEHEX' then
    local tmp = KEYS[tonumber(ARGV[i + 2])]
    local raw = string.gsub(ARGV[i + 3], '..', function(h)
      return string.char(tonumber(h, 16))
    end)
    redis.call('SET', tmp, raw, 'PX', 60000)
    redis.call('PFMERGE', k, k, tmp)
    redis.call('DEL', tmp)
  elseif op == 'BASELINE' then
    local field, id = ARGV[i + 2], ARGV[i + 4]
    if redis.call('HGET', k, field .. ':id') == id then
      redis.call('HINCRBY', k, field, ARGV[i + 3])
    else
      redis.call('HSET', k, field, ARGV[i + 3], field .. ':id', id)
    end
  end
  i = i + 1 + arity[op]
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
