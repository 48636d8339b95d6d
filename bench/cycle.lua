-- wrk script of bench/http.py: cycles through pre-generated requests, one per line of the
-- file given as the first script argument ("<idempotency key or ->\t<body>"); each wrk thread
-- takes every n-th line (n = second argument), so no request is ever sent twice. A response
-- is "bad" unless its status is the expected one (third argument) and, when a fourth argument
-- is given, its body starts with that text. The counts are printed at the end.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, n = args[1], tonumber(args[2])
  expected_status = tonumber(args[3])
  expected_prefix = args[4]
  items, pos, bad, sent, wrapped = {}, 0, 0, 0, 0
  local i = 0
  for line in io.lines(file) do
    if i % n == id then
      local tab = line:find("\t", 1, true)
      local key, body = line:sub(1, tab - 1), line:sub(tab + 1)
      local headers = {}
      for k, v in pairs(wrk.headers) do headers[k] = v end
      if key ~= "-" then headers["Idempotency-Key"] = key end
      table.insert(items, wrk.format("POST", nil, headers, body))
    end
    i = i + 1
  end
end

function request()
  pos = pos + 1
  if pos > #items then
    pos, wrapped = 1, wrapped + 1
  end
  sent = sent + 1
  return items[pos]
end

function response(status, headers, body)
  if status ~= expected_status then
    bad = bad + 1
  elseif expected_prefix and body:sub(1, #expected_prefix) ~= expected_prefix then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local b, w = 0, 0
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    w = w + t:get("wrapped")
  end
  io.write(string.format("ZB_BAD %d\nZB_WRAPPED %d\n", b, w))
end
