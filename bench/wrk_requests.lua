-- wrk script of bench/bench_wrk.py: POST a JSON body per request with its own Idempotency-Key
-- (or, with "-" for the bodies file, a plain GET).
--
-- wrk -s bench/wrk_requests.lua URL -- <path> <bodies file | -> <run id> [<bearer token>]
--
-- The bodies file holds one valid request body per line (bench_wrk.py writes them: different
-- BSNs and figures, so no two consecutive sends are the same message); each request takes the
-- next one. The key is "<run id>-<thread>-<n>": unique within a run (thread and counter) and
-- across the runs against one database (the run id), so every request is a fresh send and
-- never an idempotent replay. The request is formatted in Lua per call (wrk.format), which
-- wrk's own C loop then writes; the cost is the same for the full and the bare endpoint.
--
-- done() prints one JSON line (the summary and latency percentiles in microseconds) that
-- bench_wrk.py reads; non-2xx/3xx answers are counted in "status_errors".

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("tid", counter)
   table.insert(threads, thread)
end

local path, run_id, headers
local bodies = {}
local n = 0

function init(args)
   path = args[1]
   headers = {}
   if args[2] ~= "-" then
      for line in io.lines(args[2]) do
         if #line > 0 then
            bodies[#bodies + 1] = line
         end
      end
      headers["Content-Type"] = "application/json"
   end
   run_id = args[3]
   if args[4] and #args[4] > 0 then
      headers["Authorization"] = "Bearer " .. args[4]
   end
   -- threads start at different bodies
   n = (tid or 0) * 7919
end

function request()
   if #bodies == 0 then
      return wrk.format("GET", path, headers)
   end
   n = n + 1
   headers["Idempotency-Key"] = run_id .. "-" .. tostring(tid) .. "-" .. tostring(n)
   return wrk.format("POST", path, headers, bodies[(n % #bodies) + 1])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, '
         .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
         .. '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
      e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max))
end
