-- Rotates through request specs (one per line of WRK_SPECS: METHOD<TAB>PATH<TAB>COOKIE<TAB>CSRF<TAB>BODY)
-- so each connection acts as a different logged-in worker.
local specs = {}
local counter = 0
local thread_id = 0
local sent = 0

setup = function(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

local function split(line)
  local parts = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do parts[#parts + 1] = field end
  return parts
end

init = function(args)
  local file = assert(io.open(os.getenv("WRK_SPECS"), "r"))
  for line in file:lines() do
    if #line > 0 then specs[#specs + 1] = split(line) end
  end
  file:close()
  counter = math.random(#specs)
end

request = function()
  counter = counter % #specs + 1
  local s = specs[counter]
  local headers = {}
  if s[3] ~= "" then headers["Cookie"] = s[3] end
  if s[4] ~= "" then headers["X-CSRFToken"] = s[4] end
  local body = nil
  if s[5] ~= nil and s[5] ~= "" then
    headers["Content-Type"] = "application/json"
    -- {seq}: a number rising with every request of this thread, distinct between threads
    sent = sent + 1
    body = s[5]:gsub("{seq}", tostring(sent * 16 + (tid or 0)))
  end
  return wrk.format(s[1], s[2], headers, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50=%.2f p99=%.2f errors=%d non2xx=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests))
end
