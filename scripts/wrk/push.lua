-- wrk script for scripts/bench: POSTs seed 004's mall order, each request
-- with an order_no of its own, and prints one machine-readable line at the end.
--
--   wrk -t1 -c64 -d10s --latency -s scripts/wrk/push.lua URL -- BODY MODE ROUND
--
-- BODY   the seed document (internal/connector/mall/testdata/seed004_order.json)
-- MODE   random:     20 random digits per request
--        increasing: 20 digits, the round's two digits then a counter, so that
--                    numbers grow within a round and from round to round
-- ROUND  1..99; seeds the random numbers and leads the increasing ones

local prefix, suffix, mode, round
local n = 0

function init(args)
	local path, m, r = args[1], args[2], tonumber(args[3])
	assert(path and (m == "random" or m == "increasing") and r and r >= 1 and r <= 99,
		"usage: -- BODY random|increasing ROUND(1-99)")
	local f = assert(io.open(path, "rb"))
	local body = f:read("*a")
	f:close()
	local s, e = body:find('"order_no"%s*:%s*"[^"]*"')
	assert(s, path .. ": no order_no in the document")
	local head = body:sub(s, e):match('^(.-"order_no"%s*:%s*")')
	prefix, suffix = body:sub(1, s - 1) .. head, '"' .. body:sub(e + 1)
	mode, round = m, r
	math.randomseed(r * 7919 + os.time())
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/json"
end

function request()
	local no
	n = n + 1
	if mode == "increasing" then
		no = string.format("%02d%018d", round, n)
	else
		no = string.format("%05d%05d%05d%05d", math.random(0, 99999), math.random(0, 99999),
			math.random(0, 99999), math.random(0, 99999))
	end
	return wrk.format(nil, nil, nil, prefix .. no .. suffix)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"RESULT requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d max_us=%d\n",
		summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
		latency:percentile(50), latency:percentile(99), latency.max))
end
