-- top: a period's most viewed pages with their paths, titles and states, in one round trip.
-- KEYS[1] rank zset id->views   KEYS[2] paths hash   KEYS[3] titles hash
-- KEYS[4] hidden pages set      KEYS[5] locked titles set   KEYS[6] page states hash
-- ARGV[1] how many ranked ids to read at most   ARGV[2] '1' to include hidden pages (admin)
-- ARGV[3] '1' to list verified pages only (public lists of a site that verifies its pages)
-- ARGV[4] how many rows are wanted (reading stops there)
-- Returns {{path, views, title or nil, hidden (0/1), locked (0/1), state letter or ''}, ...},
-- most viewed first; ids whose page was forgotten or evicted are skipped.
local scan, want = tonumber(ARGV[1]), tonumber(ARGV[4])
local chunk = math.max(want, 20)
local out, start = {}, 0
while #out < want and start < scan do
  local ranked = redis.call('ZREVRANGE', KEYS[1], start, math.min(start + chunk, scan) - 1,
                            'WITHSCORES')
  if #ranked == 0 then
    break
  end
  start = start + #ranked / 2
  for i = 1, #ranked, 2 do
    local id = ranked[i]
    local hidden = redis.call('SISMEMBER', KEYS[4], id)
    if hidden == 0 or ARGV[2] == '1' then
      local state = string.sub(redis.call('HGET', KEYS[6], id) or '', 1, 1)
      if ARGV[3] ~= '1' or state == 'v' then
        local path = redis.call('HGET', KEYS[2], id)
        if path then
          table.insert(out, {path, ranked[i + 1], redis.call('HGET', KEYS[3], id), hidden,
                             redis.call('SISMEMBER', KEYS[5], id), state})
          if #out >= want then
            break
          end
        end
      end
    end
  end
end
return out
