-- wrk script: method and an optional file of bodies from the arguments; a distinct
-- X-Forwarded-For per request (the service trusts one proxy hop in the benchmark), so the
-- per-IP limits see many clients, as behind a real reverse proxy.
-- usage: wrk ... -s load.lua URL -- METHOD BODYFILE|"" RUN
-- RUN shifts addresses and bodies so that consecutive runs do not replay each other.
local threads = {}
SLICE = 8000  -- bodies a thread may use in one run (more than it sends in 5 s here)
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  method = args[1] or "GET"
  run = tonumber(args[3] or "0")
  -- wrk does not seed Lua's generator: unseeded, every run would send the same browser
  -- tokens, and later runs would measure uncounted reloads instead of new visitors
  math.randomseed(os.time() * 1000 + run * 17 + id)
  bodies = {}
  if args[2] and args[2] ~= "" then
    local n = 0
    for line in io.lines(args[2]) do
      n = n + 1
      if n % 2 == id % 2 then table.insert(bodies, line) end
    end
  end
  counter = 0
end

function request()
  counter = counter + 1
  local ip = string.format("10.%d.%d.%d", (run * 2 + id) % 250, math.floor(counter / 250) % 250,
    counter % 250)
  local headers = {
    ["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36",
    ["X-Forwarded-For"] = ip,
    ["Content-Type"] = "text/plain",
  }
  local body = nil
  if #bodies > 0 then
    -- each run takes its own slice (RUN counts the runs with bodies), so no run replays
    -- another's single-use tickets
    body = bodies[(run * SLICE + counter - 1) % #bodies + 1]
  elseif method == "POST" then
    -- every hit a new visitor: a fresh browser token (and a fresh address, above)
    body = string.format('{"path": "/tin-tuc/bai-%d", "title": "Bai %d", "token": "b%08x%08x"}',
      counter % 1000, counter % 1000, math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  end
  return wrk.format(method, nil, headers, body)
end

function done(summary, latency, requests)
  -- throughput counts 2xx answers only: a run that measured 429s or 503s is not a result
  local non2xx = summary.errors.status
  io.write(string.format("RESULT %f %f %f %d %d\n",
    (summary.requests - non2xx) / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests, non2xx))
end
