-- wrk script: PATCH /digitaltwins/{random twin} replacing one property (JSON Patch, one op).
-- Every request carries a new value, so every PATCH is a real, durable change (a repeated value
-- would be a no-op the engine answers without writing). wrk counts every status of 400 or more.
-- Usage: wrk ... -s patch_twin.lua URL -- TWINS PREFIX [TOKEN]
package.path = debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local heads, tails = {}, {}
local counter = 0
local placeholder = "@@@@@@@@@@@@"  -- as wide as every value below: 10 digits, ".5"

setup = common.setup

function init(args)
  local n, prefix, headers = common.args(args)
  headers["Content-Type"] = "application/json-patch+json"
  local body = '[{"op":"replace","path":"/temperature","value":' .. placeholder .. '}]'
  for i = 0, n - 1 do
    local req = wrk.format("PATCH", common.twin_path(prefix, i), headers, body)
    local at = req:find(placeholder, 1, true)
    heads[i + 1] = req:sub(1, at - 1)
    tails[i + 1] = req:sub(at + #placeholder)
  end
  math.randomseed(os.time() * 1000 + (seed or 0))
  counter = (seed or 0) * 100000000  -- distinct per thread; stays 10 digits below 9 threads
end

function request()
  local i = math.random(#heads)
  counter = counter + 1
  return heads[i] .. string.format("%d.5", 1000000000 + counter) .. tails[i]
end

function done(summary, latency, requests)
  common.done(summary, latency)
end
