-- wrk script of bench/http_single.py: each request posts the next pre-signed
-- envelope of this thread's share of the bodies file (one JSON envelope a line)
-- to POST /v1/entries; the answers are counted by status, and done() prints the
-- figures as one JSON line.
--   wrk -t1 -c16 -d15s -s bench/http_single.lua URL -- BODIES THREADS
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  bodies, counter, i = {}, 1, 0
  created, duplicate, other = 0, 0, 0
  for line in io.lines(path) do
    if i % nthreads == id then
      bodies[#bodies + 1] = wrk.format("POST", "/v1/entries",
        { ["Content-Type"] = "application/json" }, line)
    end
    i = i + 1
  end
end

function request()
  local raw = bodies[counter]
  counter = counter + 1
  if counter > #bodies then counter = 1 end -- wrapped: later answers are 200 duplicates
  return raw
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 200 then
    duplicate = duplicate + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, d, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    d = d + t:get("duplicate")
    o = o + t:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    '{"created": %d, "duplicate": %d, "other": %d, "requests": %d, "us": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
    c, d, o, summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout))
end
