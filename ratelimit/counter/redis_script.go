package counter

// takeScript admits one request's hits on counters that share a hash
// slot, all or nothing, in one round trip.
//
// Each counter is a hash: field = bucket index, value = hits in it. For
// counter i, ARGV holds 5 values from argsPerKey*(i-1)+1: limit, hits,
// current bucket, span (buckets before the current one that still count)
// and the TTL in ms after which every counted bucket has left. Buckets
// newer than the current one (another replica's clock running ahead)
// count too; buckets older than the span are deleted.
//
// The reply is {admitted (0/1), then per counter: count, oldest counted
// bucket (-1 if none)}; the counts include this request's hits when it
// was admitted.
const takeScript = `
local n = #KEYS
local sums, oldest, over = {}, {}, false
for i = 1, n do
  local a = (i - 1) * 5
  local limit, cur, span = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local kv = redis.call('HGETALL', KEYS[i])
  local sum, old, stale = 0, -1, {}
  for j = 1, #kv, 2 do
    local b = tonumber(kv[j])
    if b < cur - span then
      stale[#stale + 1] = kv[j]
    else
      sum = sum + tonumber(kv[j + 1])
      if old < 0 or b < old then old = b end
    end
  end
  if #stale > 0 then redis.call('HDEL', KEYS[i], unpack(stale)) end
  local pending = 0
  for k = 1, i do
    if KEYS[k] == KEYS[i] then pending = pending + tonumber(ARGV[(k - 1) * 5 + 2]) end
  end
  if sum + pending > limit then over = true end
  sums[i], oldest[i] = sum, old
end
local res = {over and 0 or 1}
for i = 1, n do
  local a = (i - 1) * 5
  local count, old = sums[i], oldest[i]
  if not over then
    redis.call('HINCRBY', KEYS[i], ARGV[a + 3], ARGV[a + 2])
    redis.call('PEXPIRE', KEYS[i], ARGV[a + 5])
    for k = 1, n do
      if KEYS[k] == KEYS[i] then count = count + tonumber(ARGV[(k - 1) * 5 + 2]) end
    end
    if old < 0 then old = tonumber(ARGV[a + 3]) end
  end
  res[#res + 1] = count
  res[#res + 1] = old
end
return res
`

// undoScript takes back hits admitted by takeScript when another slot
// refused the same request. ARGV per counter: hits, bucket.
const undoScript = `
for i = 1, #KEYS do
  local a = (i - 1) * 2
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HINCRBY', KEYS[i], ARGV[a + 2], -tonumber(ARGV[a + 1]))
  end
end
return 0
`

const argsPerKey = 5
