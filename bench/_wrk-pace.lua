-- bench/_wrk-pace.lua: open-loop, constant-arrival pacing for Debian's wrk 4.1 (which has no
-- fixed-rate flag), in the manner of wrk2. Run with ONE connection per thread (-t N -c N): wrk's
-- Lua callbacks do not say which connection they serve, but a thread with one connection is a
-- strict sequence delay() → request() → response(), so each response is matched to its request.
--
-- The schedule: connection i (of N) sends at t0 + (i - 1)/R + k·N/R for k = 0, 1, 2… — R
-- requests per second in all, evenly interleaved. delay() waits for the connection's next slot
-- (wrk's timers have 1 ms resolution: it rounds down, so a send is at most 1 ms early and on
-- average on time); a connection whose previous response came after its slot sends at once.
-- Latency (`open`) is taken from the SCHEDULED time whenever the connection was still busy at
-- its slot — no coordinated omission: a slow response delays the next send on its connection,
-- and that wait is counted — and from the actual send when the connection was idle at its slot
-- (then any delay before sending is the generator's own: timer resolution, CPU). Also recorded:
-- `strict`, always from the scheduled time (or the send, if that was early), which charges the
-- generator's lateness to the server too; the latency from the actual send; and the
-- generator's lateness itself (send − slot on an idle connection).
--
-- Environment: WRK_RATE (requests/s in all; 0 = closed loop, no pacing), WRK_CONNECTIONS (= -t =
-- -c), WRK_BODIES (a file of
-- request bodies, one per line; POST when set, else GET), WRK_OUT (where done() writes the
-- samples: "open_us strict_us send_us late_us status" per response — late_us 1e12 when the
-- connection was busy at its slot — after a first line of counters).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } rgpt_timespec;
int clock_gettime(int clk_id, rgpt_timespec *tp);
]]
local ts = ffi.new("rgpt_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC: the same clock in every thread
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local rate = tonumber(os.getenv("WRK_RATE") or "0")
local threads = {}
local start

-- In wrk's main Lua state, once per thread before any starts: a common t0, 300 ms ahead (the
-- threads connect meanwhile).
function setup(thread)
  start = start or now_us() + 300000
  table.insert(threads, thread)
  thread:set("idx", #threads)
  thread:set("t0", start)
end

function init(args)
  nthreads = tonumber(os.getenv("WRK_CONNECTIONS") or "1")
  bodies = {}
  local file = os.getenv("WRK_BODIES")
  if file and file ~= "" then
    for line in io.lines(file) do bodies[#bodies + 1] = line end
  end
  nextBody = idx
  if rate > 0 then
    interval = nthreads * 1e6 / rate
    slot = t0 + (idx - 1) * 1e6 / rate
  end
  open, strict, sent, late, status = {}, {}, {}, {}, {}
  pendingSlot, sendAt, lastDone = nil, nil, 0
end

function delay()
  if rate <= 0 then return 0 end
  pendingSlot = slot
  slot = slot + interval
  local wait = pendingSlot - now_us()
  if wait <= 0 then return 0 end
  return math.floor(wait / 1000)
end

function request()
  sendAt = now_us()
  if #bodies == 0 then return wrk.format(nil) end
  local body = bodies[nextBody]
  nextBody = nextBody + nthreads
  if nextBody > #bodies then nextBody = ((nextBody - 1) % #bodies) + 1 end
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function response(code, headers, body)
  local t = now_us()
  local n = #sent + 1
  sent[n] = t - sendAt
  if pendingSlot then
    local idle = lastDone <= pendingSlot
    open[n] = idle and sent[n] or (t - pendingSlot)
    strict[n] = t - math.min(pendingSlot, sendAt)
    late[n] = idle and (sendAt - pendingSlot) or 1e12
  else
    open[n], strict[n], late[n] = sent[n], sent[n], 1e12
  end
  status[n] = code
  lastDone = t
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("WRK_OUT"), "w"))
  local e = summary.errors
  out:write(string.format("requests=%d connect=%d read=%d write=%d status=%d timeout=%d duration_us=%d\n",
    summary.requests, e.connect, e.read, e.write, e.status, e.timeout, summary.duration))
  for _, thread in ipairs(threads) do
    local o, s, d, l, c = thread:get("open"), thread:get("strict"), thread:get("sent"), thread:get("late"), thread:get("status")
    for i = 1, #d do
      out:write(string.format("%.0f %.0f %.0f %.0f %d\n", o[i], s[i], d[i], l[i], c[i]))
    end
  end
  out:close()
end
