-- wrk script: BitTorrent announces to opentracker, the reference for
-- bench/tracker.py's look-up scenario.
--
--   wrk -t2 -c200 -d10s -s bench/announce.lua URL -- INFO_HASH_HEX PEERS
--
-- Each request announces one of PEERS seeders (peer ids and ports in turn),
-- the same seeders bench/tracker.py put in the swarm beforehand, so the swarm
-- stays at PEERS and every reply carries the same compact peer list (6 bytes
-- a peer), as every gs file_info answer lists the same peers. A reply that is
-- not 200 with that peer list counts as bad; done() prints "bad N" for
-- bench/tracker.py to check.

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("first", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  local hex = args[1] or error("usage: ... -- INFO_HASH_HEX PEERS")
  peers = tonumber(args[2] or "50")
  -- Every byte percent-encoded: valid for any info hash.
  info_hash = hex:gsub("..", "%%%0")
  want = "5:peers" .. (6 * peers) .. ":"
  n = first or 0
  bad = 0
  first_bad = ""
end

function request()
  n = n + 1
  local i = n % peers
  -- 20 bytes, as BitTorrent peer ids are; the same scheme as tracker.py's.
  local peer_id = string.format("-GS0001-%012d", i)
  local path = "/announce?info_hash=" .. info_hash .. "&peer_id=" .. peer_id ..
      "&port=" .. (30000 + i) .. "&uploaded=0&downloaded=0&left=0&compact=1&numwant=" .. peers
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= 200 or not body:find(want, 1, true) then
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. body:sub(1, 120)
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  local first = ""
  for _, t in ipairs(threads) do
    total = total + (t:get("bad") or 0)
    if first == "" then
      first = t:get("first_bad") or ""
    end
  end
  io.write(string.format("bad %d\n", total))
  if first ~= "" then
    io.write("first bad reply: " .. first .. "\n")
  end
end
