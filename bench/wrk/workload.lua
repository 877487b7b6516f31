-- One wrk script for every workload, so that ours, the bare ceiling and the peers (Django,
-- Better Auth) are driven by exactly the same client code.
--
-- wrk -s workload.lua URL -- MODE POOL_DIR TAG ME_PATH LOGOUT_PATH SESSION_COOKIE CSRF_COOKIE
--                            CSRF_HEADER ORIGIN
--   MODE         me | logout | mixed
--   POOL_DIR     holds read.<thread>.txt and revoke.<thread>.txt, lines "TOKEN CSRF"; each wrk
--                thread reads only its own files, so no two threads share a session
--   TAG          unique per measurement: makes the sign-in addresses distinct across rounds
--   ME_PATH, LOGOUT_PATH: the target's "who am I" (GET) and sign-out (POST) routes
--   SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER: names used by the target; "-" for a CSRF cookie
--                or header the target does not use (Better Auth checks the Origin instead)
--   ORIGIN       "origin": logouts carry "Origin: http://HOST", as a browser's fetch() sends it
--                on a POST; "-": they do not
--
-- Every response is counted by status and by what its body proves it was (a /me user, a logout
-- {"ok":...} or {"success":true}, a sign-in {"request_id":...}), so that a flood of 401s or 404s
-- shows up as errors in the runner and never as speed. done() prints one JSON line prefixed by
-- BENCH_RESULT.

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

local mode, tag, host, me_path, logout_path, session_cookie, csrf_cookie, csrf_header
local logout_origin = ""
local me_requests = {}
local me_next = 1
local revoke_file, revoke_path
local counter = 0
local start_body_prefix = '{"email":"bench-'

statuses = {}
classes = { user = 0, ok = 0, start = 0, other = 0 }
issued = { me = 0, logout = 0, start = 0 }
exhausted = 0

local function session_headers(token, csrf)
   local headers = "Cookie: " .. session_cookie .. "=" .. token
   if csrf_cookie ~= "-" then
      headers = headers .. "; " .. csrf_cookie .. "=" .. csrf
   end
   headers = headers .. "\r\n"
   if csrf_header ~= "-" then
      headers = headers .. csrf_header .. ": " .. csrf .. "\r\n"
   end
   return headers
end

local function split(line)
   local space = string.find(line, " ", 1, true)
   return string.sub(line, 1, space - 1), string.sub(line, space + 1)
end

function init(args)
   mode, tag = args[1], args[3]
   me_path, logout_path = args[4], args[5]
   session_cookie, csrf_cookie, csrf_header = args[6], args[7], args[8]
   host = wrk.host .. ":" .. wrk.port
   if args[9] == "origin" then
      logout_origin = "Origin: http://" .. host .. "\r\n"
   end
   local dir = args[2]
   for line in io.lines(dir .. "/read." .. tid .. ".txt") do
      local token, csrf = split(line)
      table.insert(me_requests, "GET " .. me_path .. " HTTP/1.1\r\nHost: " .. host .. "\r\n"
         .. session_headers(token, csrf) .. "\r\n")
   end
   revoke_path = dir .. "/revoke." .. tid .. ".txt"
   revoke_file = io.open(revoke_path, "r")
end

local function me()
   issued.me = issued.me + 1
   local req = me_requests[me_next]
   me_next = me_next % #me_requests + 1
   return req
end

local function logout()
   issued.logout = issued.logout + 1
   local line = revoke_file:read("*l")
   if line == nil then
      -- Every session of this thread's pool was used: from here on the requests would revoke
      -- already revoked rows. The runner sizes durations to avoid this and counts it if it happens.
      exhausted = exhausted + 1
      revoke_file:close()
      revoke_file = io.open(revoke_path, "r")
      line = revoke_file:read("*l")
   end
   local token, csrf = split(line)
   return "POST " .. logout_path .. " HTTP/1.1\r\nHost: " .. host .. "\r\n" .. logout_origin
      .. session_headers(token, csrf) .. "Content-Length: 0\r\n\r\n"
end

local function start()
   issued.start = issued.start + 1
   -- A fresh address per request: the server allows 5 codes per address per hour.
   local body = start_body_prefix .. tag .. "-" .. tid .. "-" .. counter .. '@example.com"}'
   return "POST /v1/auth/email/start HTTP/1.1\r\nHost: " .. host
      .. "\r\nContent-Type: application/json\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
end

function request()
   counter = counter + 1
   if mode == "me" then
      return me()
   elseif mode == "logout" then
      return logout()
   end
   -- mixed: a console under use is mostly page loads (/me), with some sign-outs and sign-ins.
   local slot = counter % 20
   if slot == 0 then
      return logout()
   elseif slot == 10 then
      return start()
   end
   return me()
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status ~= 200 or body == nil then
      return
   end
   if string.find(body, '"user"', 1, true) then
      classes.user = classes.user + 1
   elseif string.find(body, '"request_id"', 1, true) then
      classes.start = classes.start + 1
   elseif string.find(body, '"ok"', 1, true) or string.find(body, '"success":true', 1, true) then
      classes.ok = classes.ok + 1
   else
      classes.other = classes.other + 1
   end
end

local function add_all(into, from)
   for key, value in pairs(from) do
      into[tostring(key)] = (into[tostring(key)] or 0) + value
   end
end

local function json_object(t)
   local parts = {}
   for key, value in pairs(t) do
      table.insert(parts, string.format('"%s":%d', key, value))
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local all_statuses, all_classes, all_issued, all_exhausted = {}, {}, {}, 0
   for _, thread in ipairs(threads) do
      add_all(all_statuses, thread:get("statuses"))
      add_all(all_classes, thread:get("classes"))
      add_all(all_issued, thread:get("issued"))
      all_exhausted = all_exhausted + thread:get("exhausted")
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"duration_us":%d,"requests":%d,"bytes":%d,'
         .. '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
         .. '"non_2xx_3xx":%d,"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},'
         .. '"statuses":%s,"classes":%s,"issued":%s,"exhausted":%d}\n',
      summary.duration, summary.requests, summary.bytes,
      errors.connect, errors.read, errors.write, errors.timeout, errors.status,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, json_object(all_statuses), json_object(all_classes), json_object(all_issued),
      all_exhausted))
end
