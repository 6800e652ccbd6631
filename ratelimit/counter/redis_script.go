package counter

// Each counter is one string: the newest bucket index (a little-endian
// double) followed by the ring of the span+1 counted buckets (uint32
// each, bucket i at position i mod (span+1)), the same ring the memory
// counter keeps. It expires when the newest bucket leaves the window.

// takeScript admits a batch of requests on counters of one hash slot, in
// order, each all or nothing: the result is what the requests would get
// one after the other.
//
// ARGV holds, per key of KEYS, its span (buckets before the current one
// that still count); then the number of requests; then per request its
// number of items and per item itemArgs values: key index, limit, hits,
// current bucket, TTL in ms once hits are added. A bucket older than the
// newest one stored (another replica's clock running behind) counts as
// the newest.
//
// The reply is, per request: admitted (0/1), then per item its count
// (with the request's hits when admitted) and the oldest bucket holding
// hits (-1 if none).
const takeScript = `
local nk = #KEYS
local fmts, n, c, ttl, dirty = {}, {}, {}, {}, {}
for k = 1, nk do
  local nb = tonumber(ARGV[k]) + 1
  local f = fmts[nb]
  if not f then
    f = '<d' .. string.rep('I4', nb)
    fmts[nb] = f
  end
  local v = redis.call('GET', KEYS[k])
  if v and #v == 8 + 4 * nb then
    c[k] = {struct.unpack(f, v)}
  else
    local t = {false}
    for i = 2, nb + 1 do t[i] = 0 end
    c[k] = t
  end
  n[k], ttl[k], dirty[k] = nb, 0, false
end
-- advance moves counter k (c[k][1] = newest bucket, c[k][2 + i % n]
-- = hits in bucket i) to bucket cur and returns its count.
local function advance(k, cur)
  local t, nb = c[k], n[k]
  local head = t[1]
  if not head then
    t[1] = cur
  elseif cur > head then
    for i = head + 1, math.min(cur, head + nb) do t[2 + i % nb] = 0 end
    t[1] = cur
  end
  local sum = 0
  for i = 2, nb + 1 do sum = sum + t[i] end
  return sum
end
local function oldest(k)
  local t, nb = c[k], n[k]
  for i = t[1] - nb + 1, t[1] do
    if t[2 + i % nb] > 0 then return i end
  end
  return -1
end
local pos = nk + 1
local nreq = tonumber(ARGV[pos])
pos = pos + 1
local res, ik, ihits, isum = {}, {}, {}, {}
for r = 1, nreq do
  local m = tonumber(ARGV[pos])
  pos = pos + 1
  local over = false
  for i = 1, m do
    local a = pos + (i - 1) * 5
    local k, hits = tonumber(ARGV[a]), tonumber(ARGV[a + 2])
    local sum = advance(k, tonumber(ARGV[a + 3]))
    local pending = hits
    for j = 1, i - 1 do
      if ik[j] == k then pending = pending + ihits[j] end
    end
    if sum + pending > tonumber(ARGV[a + 1]) then over = true end
    ik[i], ihits[i], isum[i] = k, hits, sum
  end
  res[#res + 1] = over and 0 or 1
  if not over then
    for i = 1, m do
      local k = ik[i]
      local t = c[k]
      local slot = 2 + t[1] % n[k]
      t[slot] = t[slot] + ihits[i]
      ttl[k] = math.max(ttl[k], tonumber(ARGV[pos + (i - 1) * 5 + 4]))
      dirty[k] = true
    end
  end
  for i = 1, m do
    local k = ik[i]
    local sum = isum[i]
    if not over then
      sum = 0
      for j = 2, n[k] + 1 do sum = sum + c[k][j] end
    end
    res[#res + 1] = sum
    res[#res + 1] = oldest(k)
  end
  pos = pos + m * 5
end
for k = 1, nk do
  if dirty[k] then
    redis.call('SET', KEYS[k], struct.pack(fmts[n[k]], unpack(c[k], 1, n[k] + 1)), 'PX', ttl[k])
  end
end
return res
`

// itemArgs is the number of ARGV values per item in takeScript.
const itemArgs = 5

// undoScript takes back hits admitted by takeScript for requests another
// slot refused. ARGV per key: span, hits, bucket.
const undoScript = `
for k = 1, #KEYS do
  local a = (k - 1) * 3
  local n = tonumber(ARGV[a + 1]) + 1
  local fmt = '<d' .. string.rep('I4', n)
  local v = redis.call('GET', KEYS[k])
  if v and #v == 8 + 4 * n then
    local t = {struct.unpack(fmt, v)}
    local head, b = t[1], tonumber(ARGV[a + 3])
    if b > head then b = head end
    if b > head - n then
      local i = 2 + b % n
      t[i] = math.max(t[i] - tonumber(ARGV[a + 2]), 0)
      redis.call('SET', KEYS[k], struct.pack(fmt, head, unpack(t, 2, n + 1)), 'KEEPTTL')
    end
  end
end
return 0
`
