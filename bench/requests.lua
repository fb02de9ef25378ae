-- wrk script: replays pre-built webhook requests (bench/run.py writes them), each once.
-- Args: <requests file> <first request index> <number of wrk threads>. Thread t of n sends requests
-- first+t, first+t+n, first+t+2n, ... so no two threads send the same message.
-- done() prints one JSON line with the figures run.py reads.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  local path, first = args[1], tonumber(args[2] or "0")
  local step = tonumber(args[3] or "1")
  local me = tonumber(wrk.thread:get("index") or "0")
  local all = {}
  for line in io.lines(path) do
    table.insert(all, line)
  end
  requests = {}
  local i = first + me + 1
  while i <= #all do
    local f = split(all[i])
    -- f[1] path, f[2] content type, f[3] header name, f[4] header value, f[5] body
    local headers = {["Content-Type"] = f[2], [f[3]] = f[4], ["Host"] = "127.0.0.1"}
    table.insert(requests, wrk.format("POST", f[1], headers, f[5]))
    i = i + step
  end
  position = 0
  sent = 0
  statuses = {}
end

function request()
  position = position % #requests + 1
  sent = sent + 1
  return requests[position]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests_)
  local codes = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do
      codes[tostring(code)] = (codes[tostring(code)] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(codes) do
    table.insert(parts, string.format('"%s": %d', code, n))
  end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status,
    summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ", ")))
end
