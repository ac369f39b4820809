-- reserve.lua: authenticated single-seat reserves of random seats for wrk,
-- each hold released again at once so that seats keep cycling (the event
-- never sells out and every reserve takes the durable path).
--
--   wrk -t T -c C -d 20s -s deploy/bench/reserve.lua http://127.0.0.1:8080 -- DATA.lua T [hold]
--
-- DATA.lua comes from `boxoffice loadgen -wrk-data DATA.lua -users C`: the
-- event, its ticket IDs and C development tokens. Thread i takes tokens i,
-- i+T, ... and uses them in turn, so C users share the C connections; no
-- user holds more than a few seats at once (max_tickets_per_user).
-- wrk gives request() and response() no connection, so a 201's owner is
-- found by its seat (the reply echoes ticket_ids): pending[seat] = token.
-- With "hold" as the third argument nothing is released: every request is
-- a reserve and the holds expire (run the node with a short hold time and
-- the event's max_tickets_per_user at 0, as `make bench-http MODE=hold` does).
-- done() prints one line: requests, reserves, holds, releases, p50/p99.

local threads = {}
local n = 0

function setup(thread)
  n = n + 1
  thread:set("tid", n)
  table.insert(threads, thread)
end

function init(args)
  local d = dofile(args[1])
  local nthreads = tonumber(args[2]) or 1
  event = d.event
  tickets = d.tickets
  users = {}
  for i = tid, #d.tokens, nthreads do
    users[#users + 1] = d.tokens[i]
  end
  if #users == 0 then
    users[1] = d.tokens[1]
  end
  math.randomseed(os.time() + tid * 7919)
  nextuser = 0
  keep = args[3] == "hold"
  pending = {}
  queue, head, tail = {}, 1, 0
  reserves, holds, conflicts, releases, other = 0, 0, 0, 0, 0
end

function request()
  if head <= tail then
    local r = queue[head]
    queue[head] = nil
    head = head + 1
    return wrk.format("DELETE", "/booking/" .. r[2], { ["Authorization"] = "Bearer " .. r[1] })
  end
  nextuser = nextuser % #users + 1
  local tok = users[nextuser]
  local t = tickets[math.random(#tickets)]
  if not keep then
    pending[t] = tok
  end
  reserves = reserves + 1
  return wrk.format("POST", "/booking/reserve",
    { ["Authorization"] = "Bearer " .. tok, ["Content-Type"] = "application/json" },
    '{"event_id":"' .. event .. '","ticket_ids":["' .. t .. '"]}')
end

function response(status, headers, body)
  if status == 201 then
    holds = holds + 1
    local b = body:match('"booking_id"%s*:%s*"([^"]+)"')
    local t = body:match('"ticket_ids"%s*:%s*%[%s*"([^"]+)"')
    local tok = t and pending[t]
    if b and tok then
      pending[t] = nil
      tail = tail + 1
      queue[tail] = { tok, b }
    end
  elseif status == 200 then
    releases = releases + 1
  elseif status == 409 then
    conflicts = conflicts + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local r, h, c, rel, o = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    r = r + t:get("reserves")
    h = h + t:get("holds")
    c = c + t:get("conflicts")
    rel = rel + t:get("releases")
    o = o + t:get("other")
  end
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "wrk: seconds=%.2f requests=%d reserves=%d holds=%d releases=%d conflicts=%d other=%d "
      .. "socket-errors=%d p50=%.2fms p99=%.2fms\n",
    s, summary.requests, r, h, rel, c, o, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
