-- Shared by the wrk scripts of bench/load/http_bench.py: argument parsing, per-thread seeds,
-- one machine-readable result line in done() (statuses >= 400 as wrk counts them: no response()
-- hook, so wrk does not turn every answer's headers into a Lua table). Never prints anything else on stdout, so http_bench.py can parse the "WRK_RESULT" line.
local M = {}
local threads = {}
local next_seed = 1

-- setup() runs once per wrk thread before it starts; remember the threads to sum their counts.
function M.setup(thread)
  thread:set("seed", next_seed)
  next_seed = next_seed + 1
  table.insert(threads, thread)
end

-- Arguments after "--": twin count, twin id prefix, bearer token ("" for none).
function M.args(args)
  local headers = {}
  if args[3] ~= nil and args[3] ~= "" then headers["Authorization"] = "Bearer " .. args[3] end
  return tonumber(args[1]), args[2], headers
end

function M.twin_path(prefix, i)
  return string.format("/digitaltwins/%s%06d?api-version=2023-10-31", prefix, i)
end

function M.done(summary, latency)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"unexpected_status":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end

return M
