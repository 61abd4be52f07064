-- wrk script: GET /digitaltwins/{random twin}?api-version=2023-10-31 on keep-alive connections.
-- wrk counts every answer with a status of 400 or more (reported by done() as unexpected_status).
-- Usage: wrk ... -s get_twin.lua URL -- TWINS PREFIX [TOKEN]
package.path = debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local requests = {}

setup = common.setup

function init(args)
  local n, prefix, headers = common.args(args)
  for i = 0, n - 1 do
    requests[i + 1] = wrk.format("GET", common.twin_path(prefix, i), headers)
  end
  math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
  return requests[math.random(#requests)]
end

function done(summary, latency, requests)
  common.done(summary, latency)
end
