package counter

// Each counter is one string of little-endian doubles: the newest bucket
// index followed by the ring of the span+1 counted buckets (bucket i at
// position i mod (span+1)), the same ring the memory counter keeps. It
// expires when the newest bucket leaves the window.

// takeScript admits a batch of requests on counters of one hash slot, in
// order, each all or nothing: the result is what the requests would get
// one after the other.
//
// ARGV[1] is a blob of little-endian doubles (integers, exact below
// 2^53): per key of KEYS its span (buckets before the current one that
// still count); the number of requests; then per request its number of
// items m and m*itemArgs values, per item: key index, limit, hits,
// current bucket, TTL in ms once hits are added. A bucket older than the
// newest one stored (another replica's clock running behind) counts as
// the newest.
//
// The reply is a blob of doubles: per request admitted (0/1), then per
// item its count (with the request's hits when admitted) and the oldest
// bucket holding hits (-1 if none).
const takeScript = `
local U, P = struct.unpack, struct.pack
local blob, nk = ARGV[1], #KEYS
local fmts = {}
local function fmt(n)
  local f = fmts[n]
  if not f then
    f = '<' .. string.rep('d', n)
    fmts[n] = f
  end
  return f
end
local hdr = {U(fmt(nk + 1), blob)}
local pos = hdr[nk + 2]
-- One MGET for the keys (in chunks: unpack has a limit).
local vals = {}
local i = 1
while i <= nk do
  local j = math.min(i + 999, nk)
  local part = redis.call('MGET', unpack(KEYS, i, j))
  for q = 1, j - i + 1 do vals[i + q - 1] = part[q] end
  i = j + 1
end
local n, c, tot, ttl, dirty = {}, {}, {}, {}, {}
for k = 1, nk do
  local nb = hdr[k] + 1
  local v = vals[k]
  if v and #v == 8 * (nb + 1) then
    c[k] = {U(fmt(nb + 1), v)}
  else
    local t = {false}
    for q = 2, nb + 1 do t[q] = 0 end
    c[k], tot[k] = t, 0
  end
  n[k], ttl[k], dirty[k] = nb, 0, false
end
-- advance moves counter k (c[k][1] = newest bucket, c[k][2 + i % n]
-- = hits in bucket i) to bucket cur and returns its count (tot[k],
-- kept until the buckets move).
local function advance(k, cur)
  local t, nb = c[k], n[k]
  local head = t[1]
  if not head then
    t[1] = cur
  elseif cur > head then
    for q = head + 1, math.min(cur, head + nb) do t[2 + q % nb] = 0 end
    t[1] = cur
    tot[k] = nil
  end
  local sum = tot[k]
  if not sum then
    sum = 0
    for q = 2, nb + 1 do sum = sum + t[q] end
    tot[k] = sum
  end
  return sum
end
local function oldest(k)
  local t, nb = c[k], n[k]
  for q = t[1] - nb + 1, t[1] do
    if t[2 + q % nb] > 0 then return q end
  end
  return -1
end
local out = {}
local sums = {}
for r = 1, hdr[nk + 1] do
  local m
  m, pos = U('<d', blob, pos)
  local x = {U(fmt(5 * m), blob, pos)}
  pos = x[5 * m + 1]
  local over = false
  for q = 0, m - 1 do
    local k, hits = x[5 * q + 1], x[5 * q + 3]
    sums[q] = advance(k, x[5 * q + 4])
    local pending = hits
    for j = 0, q - 1 do
      if x[5 * j + 1] == k then pending = pending + x[5 * j + 3] end
    end
    if sums[q] + pending > x[5 * q + 2] then over = true end
  end
  out[#out + 1] = P('<d', over and 0 or 1)
  if not over then
    for q = 0, m - 1 do
      local k, hits = x[5 * q + 1], x[5 * q + 3]
      local t = c[k]
      local slot = 2 + t[1] % n[k]
      t[slot] = t[slot] + hits
      tot[k] = tot[k] + hits
      if x[5 * q + 5] > ttl[k] then ttl[k] = x[5 * q + 5] end
      dirty[k] = true
    end
  end
  for q = 0, m - 1 do
    local k = x[5 * q + 1]
    out[#out + 1] = P('<dd', over and sums[q] or tot[k], oldest(k))
  end
end
for k = 1, nk do
  if dirty[k] then
    redis.call('SET', KEYS[k], P(fmt(n[k] + 1), unpack(c[k], 1, n[k] + 1)), 'PX', ttl[k])
  end
end
return table.concat(out)
`

// itemArgs is the number of values per item in takeScript's blob.
const itemArgs = 5

// undoScript takes back hits admitted by takeScript for requests another
// slot refused. ARGV per key: span, hits, bucket.
const undoScript = `
for k = 1, #KEYS do
  local a = (k - 1) * 3
  local n = tonumber(ARGV[a + 1]) + 1
  local fmt = '<' .. string.rep('d', n + 1)
  local v = redis.call('GET', KEYS[k])
  if v and #v == 8 * (n + 1) then
    local t = {struct.unpack(fmt, v)}
    local head, b = t[1], tonumber(ARGV[a + 3])
    if b > head then b = head end
    if b > head - n then
      local i = 2 + b % n
      t[i] = math.max(t[i] - tonumber(ARGV[a + 2]), 0)
      redis.call('SET', KEYS[k], struct.pack(fmt, unpack(t, 1, n + 1)), 'KEEPTTL')
    end
  end
end
return 0
`
