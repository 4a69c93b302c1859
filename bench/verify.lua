-- wrk script for bench/otp_verify.py: every request is a correct, fresh OTP.
--
-- The benchmark writes a data file (passed as the script's first argument):
--   line 1:  <period> <base step> <channel key>
--   then one line per token:  <ユーザID> <code at base step> <code at base+1> <code at base+2>
-- Each token is used at most once per run, with the code of the time step current
-- when the request is built (the run may cross a 30 s boundary), so every request is
-- a code the server has never accepted before. Lines are dealt out to wrk's threads
-- round-robin. Responses are counted by their result; done() prints one JSON line.

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("id", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

function init(args)
   local path = args[1]
   local nthreads = tonumber(args[2])
   local file = assert(io.open(path, "r"))
   local header = file:read("*l")
   local p, b, key = header:match("^(%d+) (%d+) (%S+)$")
   period, base_step = tonumber(p), tonumber(b)
   tokens = {}
   local line_no = 0
   for line in file:lines() do
      if line_no % nthreads == id then
         local user_id, c0, c1, c2 = line:match("^(%d+) (%d+) (%d+) (%d+)$")
         tokens[#tokens + 1] = { user_id, c0, c1, c2 }
      end
      line_no = line_no + 1
   end
   file:close()
   headers = {
      ["Authorization"] = "Bearer " .. key,
      ["Content-Type"] = "application/json",
   }
   sent, wrapped, accepted, rejected, locked, other = 0, 0, 0, 0, 0, 0
end

function request()
   sent = sent + 1
   local n = #tokens
   if sent > n then
      -- More requests than fresh tokens: this one repeats a used code, and the server
      -- must refuse it. The benchmark sizes the pool so that this never happens.
      wrapped = wrapped + 1
   end
   local t = tokens[((sent - 1) % n) + 1]
   local k = math.floor(os.time() / period) - base_step
   if k < 0 then k = 0 elseif k > 2 then k = 2 end
   local body = '{"user_id":"' .. t[1] .. '","otp":"' .. t[2 + k] .. '"}'
   return wrk.format("POST", nil, headers, body)
end

function response(status, hdrs, body)
   if status == 200 then
      if body:find('"accepted"', 1, true) then
         accepted = accepted + 1
      elseif body:find('"locked"', 1, true) then
         locked = locked + 1
      else
         rejected = rejected + 1
      end
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local totals = { sent = 0, wrapped = 0, accepted = 0, rejected = 0, locked = 0, other = 0 }
   local per_thread = {}
   for _, thread in ipairs(threads) do
      for name, _ in pairs(totals) do
         totals[name] = totals[name] + thread:get(name)
      end
      per_thread[#per_thread + 1] = tostring(thread:get("sent"))
   end
   local errors = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
         .. '"max_us": %d, "mean_us": %.1f, "sent": %d, "sent_per_thread": [%s], '
         .. '"wrapped": %d, "accepted": %d, "rejected": %d, "locked": %d, "other": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean, totals.sent, table.concat(per_thread, ", "),
      totals.wrapped, totals.accepted, totals.rejected, totals.locked, totals.other,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
