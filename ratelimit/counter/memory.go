package counter

import (
	"context"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"time"
)

const (
	memoryShards = 256
	// sweepEvery is how often (in the callers' time) a shard drops the
	// counters whose hits have all left their window.
	sweepEvery = int64(30 * time.Second)
	// maxCount is the most hits a memory counter holds per window: a
	// limit above it acts as it (limits of the model are 32-bit).
	maxCount = math.MaxUint32
)

// Memory is an in-process Counter: sharded tables under mutexes. A Take
// locks the shards of its items in ascending order, so it is atomic
// across items and exact under any concurrency. Idle counters are
// dropped lazily while their shard is in use.
//
// A counter is stored without pointers, so that a million of them cost
// the garbage collector nothing to scan: it is identified by a 128-bit
// hash of its key and window (two independent hashes with seeds drawn
// per process, so that no input can be crafted to collide), and holds
// its newest bucket, its expiry second and a ring of 32-bit bucket
// counts in fixed-size slabs shared by the counters of the same ring
// length. With the default 10 buckets a counter takes about 110 bytes
// whatever the length of its key (BenchmarkMemoryFootprint).
type Memory struct {
	seeds  idSeeds
	shards [memoryShards]shard
}

var _ Counter = (*Memory)(nil)

type shard struct {
	mu sync.Mutex
	// tables by ring length (a process uses one or two: sliding windows
	// of the configured buckets, fixed windows).
	tables    []*table
	nextSweep int64
	_         [32]byte // keep shards on separate cache lines
}

// counterID identifies a counter: the hash of its key and window under
// each of the two seeds.
type counterID [2]uint64

// table holds the counters of one ring length in chunks of chunkSize
// records (fixed-size slabs: growing never copies, freeing never
// fragments). Record r has its newest bucket in head(r), the count of
// bucket i in ring(r)[i%ring] for i in [head(r)-ring+1, head(r)], and in
// exp(r) the second after which its newest bucket stops counting (then
// nothing it holds counts).
type table struct {
	ring   int
	index  map[counterID]uint32
	chunks []*chunk
	n      int // records in use or free
	free   []uint32
}

const chunkSize = 64

type chunk struct {
	heads  [chunkSize]int64
	exps   [chunkSize]uint32 // Unix seconds, rounded up
	counts []uint32          // chunkSize*ring
}

func (tb *table) ringOf(r int) []uint32 {
	c, i := tb.chunks[r/chunkSize], r%chunkSize
	return c.counts[i*tb.ring : (i+1)*tb.ring]
}

func (tb *table) head(r int) *int64 { return &tb.chunks[r/chunkSize].heads[r%chunkSize] }

func (tb *table) exp(r int) *uint32 { return &tb.chunks[r/chunkSize].exps[r%chunkSize] }

// setHead makes bucket k of window w counter r's newest.
func (tb *table) setHead(r int, w *Window, k int64) {
	*tb.head(r) = k
	*tb.exp(r) = uint32(min((w.leaves(k)+int64(time.Second)-1)/int64(time.Second), math.MaxUint32))
}

// NewMemory returns an empty in-memory counter.
func NewMemory() *Memory {
	return &Memory{seeds: newIDSeeds()}
}

// idSeeds are the seeds of counter ids, drawn per process.
type idSeeds [2]maphash.Seed

func newIDSeeds() idSeeds { return idSeeds{maphash.MakeSeed(), maphash.MakeSeed()} }

// id identifies an item's counter by its key and its window (a changed
// window is a new counter): the key's hash under each seed, xor a
// bijective mix of the window (so that two windows of one key never
// collide, and other collisions are as unlikely as the hash's).
func (s *idSeeds) id(it *Item) counterID {
	w := mix64(uint64(it.Window.Size)) ^ mix64(uint64(it.Window.Buckets)<<32^uint64(it.Window.offset()))
	return counterID{maphash.String(s[0], it.Key) ^ w, maphash.String(s[1], it.Key) ^ mix64(w)}
}

// mix64 is a bijection of 64-bit integers that spreads every input bit
// (the finalizer of MurmurHash3).
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// slot is one item's place while a Take runs.
type slot struct {
	id    counterID
	shard uint16
	tbl   *table
	rec   int    // -1 if the counter does not exist yet
	count uint64 // before this Take
}

// Take implements Counter.
func (m *Memory) Take(_ context.Context, now time.Time, items []Item, out []Result) error {
	if err := validate(items, out); err != nil {
		return err
	}
	t := now.UnixNano()
	var sbuf [8]slot
	var lbuf [8]uint16
	slots, locks := sbuf[:0], lbuf[:0]
	for i := range items {
		id := m.seeds.id(&items[i])
		s := uint16(id[0] % memoryShards)
		slots, locks = append(slots, slot{id: id, shard: s, rec: -1}), append(locks, s)
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)
	for _, s := range locks {
		m.shards[s].mu.Lock()
	}
	over := false
	for i := range items {
		it, sl := &items[i], &slots[i]
		ring := int(it.Window.span()) + 1
		sl.tbl = m.shards[sl.shard].table(ring)
		var count uint64
		if r, ok := sl.tbl.index[sl.id]; ok {
			sl.rec = int(r)
			count = sl.tbl.advance(sl.rec, &it.Window, it.Window.index(t))
		}
		sl.count = count
		// Hits of earlier items on the same counter count too.
		pending := it.Hits
		for j := range i {
			if slots[j].id == sl.id {
				pending += items[j].Hits
			}
		}
		out[i] = Result{Over: count+pending > min(it.Limit, maxCount), Count: count}
		over = over || out[i].Over
	}
	for i := range items {
		it, sl := &items[i], &slots[i]
		if !over {
			if sl.rec < 0 {
				// An earlier item may have created it.
				if r, ok := sl.tbl.index[sl.id]; ok {
					sl.rec = int(r)
				} else {
					sl.rec = sl.tbl.add(sl.id, &it.Window, it.Window.index(t))
				}
			}
			sl.tbl.ringOf(sl.rec)[sl.tbl.pos(*sl.tbl.head(sl.rec))] += uint32(it.Hits)
		}
		if sl.rec >= 0 {
			if !over {
				// The count with every hit of this Take on the counter.
				out[i].Count = sl.count
				for j := range items {
					if slots[j].id == sl.id {
						out[i].Count += items[j].Hits
					}
				}
			}
			out[i].Reset = time.Duration(sl.tbl.resetAt(sl.rec, &it.Window, t))
		} else {
			out[i].Reset = it.Window.Size
		}
	}
	for _, s := range locks {
		m.shards[s].sweep(t)
		m.shards[s].mu.Unlock()
	}
	return nil
}

// Len returns the number of live counters.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for _, tb := range s.tables {
			n += len(tb.index)
		}
		s.mu.Unlock()
	}
	return n
}

// table returns the shard's table of ring length ring, creating it.
func (s *shard) table(ring int) *table {
	for _, tb := range s.tables {
		if tb.ring == ring {
			return tb
		}
	}
	tb := &table{ring: ring, index: map[counterID]uint32{}}
	s.tables = append(s.tables, tb)
	return tb
}

// add creates a counter of window w whose newest bucket is head.
func (tb *table) add(id counterID, w *Window, head int64) int {
	var r int
	if n := len(tb.free); n > 0 {
		r = int(tb.free[n-1])
		tb.free = tb.free[:n-1]
		clear(tb.ringOf(r))
	} else {
		if tb.n == len(tb.chunks)*chunkSize {
			tb.chunks = append(tb.chunks, &chunk{counts: make([]uint32, chunkSize*tb.ring)})
		}
		r = tb.n
		tb.n++
	}
	tb.setHead(r, w, head)
	tb.index[id] = uint32(r)
	return r
}

// pos is the position of bucket i in a ring.
func (tb *table) pos(i int64) int {
	n := int64(tb.ring)
	return int(((i % n) + n) % n)
}

func (tb *table) total(r int) uint64 {
	var sum uint64
	for _, c := range tb.ringOf(r) {
		sum += uint64(c)
	}
	return sum
}

// advance moves counter r of window w to bucket k and returns its count
// there. A k before the newest bucket (clock skew) counts as the newest
// bucket.
func (tb *table) advance(r int, w *Window, k int64) uint64 {
	head := *tb.head(r)
	if k > head {
		ring := tb.ringOf(r)
		s := tb.pos(head + 1)
		for range min(k-head, int64(tb.ring)) {
			ring[s] = 0
			if s++; s == tb.ring {
				s = 0
			}
		}
		tb.setHead(r, w, k)
	}
	return tb.total(r)
}

// resetAt returns the nanoseconds from t until the oldest counted hit of
// counter r leaves window w (the window's size when nothing is counted).
func (tb *table) resetAt(r int, w *Window, t int64) int64 {
	ring := tb.ringOf(r)
	head := *tb.head(r)
	s := tb.pos(head + 1) // the oldest counted bucket, head-ring+1
	for i := range tb.ring {
		if ring[s] != 0 {
			// bucket head-ring+1+i stops counting when bucket head+1+i starts
			return max(w.start(head+1+int64(i))-t, 0)
		}
		if s++; s == tb.ring {
			s = 0
		}
	}
	return int64(w.Size)
}

// sweep drops, at most every sweepEvery, the counters nothing counted at
// t is left in, and compacts tables that shrank to a quarter.
func (s *shard) sweep(t int64) {
	if t < s.nextSweep {
		return
	}
	s.nextSweep = t + sweepEvery
	sec := t / int64(time.Second)
	for _, tb := range s.tables {
		for id, r := range tb.index {
			if int64(*tb.exp(int(r))) <= sec {
				delete(tb.index, id)
				tb.free = append(tb.free, r)
			}
		}
		if tb.n > 4*chunkSize && len(tb.index) < tb.n/4 {
			tb.compact()
		}
	}
}

// compact moves the live counters to fresh slabs and index, giving the
// memory of the dropped ones back.
func (tb *table) compact() {
	c := &table{ring: tb.ring, index: make(map[counterID]uint32, len(tb.index))}
	for id, r := range tb.index {
		if c.n == len(c.chunks)*chunkSize {
			c.chunks = append(c.chunks, &chunk{counts: make([]uint32, chunkSize*c.ring)})
		}
		n := c.n
		c.n++
		c.index[id] = uint32(n)
		*c.head(n), *c.exp(n) = *tb.head(int(r)), *tb.exp(int(r))
		copy(c.ringOf(n), tb.ringOf(int(r)))
	}
	*tb = *c
}
