package counter

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

const (
	memoryShards = 256
	// sweepEvery is how often (in the callers' time) a shard drops the
	// counters whose hits have all left their window.
	sweepEvery = int64(30 * time.Second)
)

// Memory is an in-process Counter: sharded maps under mutexes. A Take
// locks the shards of its items in ascending order, so it is atomic
// across items and exact under any concurrency. Idle counters are
// dropped lazily while their shard is in use.
type Memory struct {
	seed   maphash.Seed
	shards [memoryShards]shard
}

var _ Counter = (*Memory)(nil)

type shard struct {
	mu        sync.Mutex
	m         map[string]*entry
	nextSweep int64
	_         [40]byte // keep shards on separate cache lines
}

// entry holds one counter: a ring of the counted buckets, counts[i %
// len] for bucket i in [head-span, head], and their total.
type entry struct {
	win        Window
	width, off int64 // of win, cached
	head       int64
	total      uint64
	counts     []uint64
}

// NewMemory returns an empty in-memory counter.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].m = map[string]*entry{}
	}
	return m
}

// Take implements Counter.
func (m *Memory) Take(_ context.Context, now time.Time, items []Item, out []Result) error {
	if err := validate(items, out); err != nil {
		return err
	}
	t := now.UnixNano()
	var buf, lbuf [8]uint16
	idx, locks := buf[:0], lbuf[:0]
	for i := range items {
		s := uint16(maphash.String(m.seed, items[i].Key) % memoryShards)
		idx, locks = append(idx, s), append(locks, s)
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)
	for _, s := range locks {
		m.shards[s].mu.Lock()
	}
	over := false
	for i := range items {
		it := &items[i]
		e := m.shards[idx[i]].m[it.Key]
		var count uint64
		if e != nil {
			if e.win != it.Window {
				e.rewindow(it.Window, t)
			}
			count = e.advance(t)
		}
		// Hits of earlier items on the same key count too.
		pending := it.Hits
		for j := range i {
			if items[j].Key == it.Key {
				pending += items[j].Hits
			}
		}
		out[i] = Result{Over: count+pending > it.Limit, Count: count}
		over = over || out[i].Over
	}
	for i := range items {
		it := &items[i]
		sh := &m.shards[idx[i]]
		e := sh.m[it.Key]
		if !over {
			if e == nil {
				e = newEntry(it.Window, t)
				sh.m[it.Key] = e
			}
			e.counts[e.slot(e.head)] += it.Hits
			e.total += it.Hits
		}
		if e != nil {
			out[i].Count = e.total
			out[i].Reset = time.Duration(e.resetAt(t))
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
		m.shards[i].mu.Lock()
		n += len(m.shards[i].m)
		m.shards[i].mu.Unlock()
	}
	return n
}

func newEntry(w Window, t int64) *entry {
	e := &entry{win: w, width: w.width(), off: w.offset(), counts: make([]uint64, w.span()+1)}
	e.head = e.index(t)
	return e
}

// rewindow restarts a counter whose window definition changed.
func (e *entry) rewindow(w Window, t int64) { *e = *newEntry(w, t) }

func (e *entry) index(t int64) int64 { return floorDiv(t-e.off, e.width) }

func (e *entry) slot(i int64) int {
	n := int64(len(e.counts))
	return int(((i % n) + n) % n)
}

// advance moves the ring to instant t and returns the count there. A t
// before the newest bucket (clock skew) counts as the newest bucket.
func (e *entry) advance(t int64) uint64 {
	k := e.index(t)
	if k <= e.head {
		return e.total
	}
	n := len(e.counts)
	s := e.slot(e.head + 1)
	for range min(k-e.head, int64(n)) {
		e.total -= e.counts[s]
		e.counts[s] = 0
		if s++; s == n {
			s = 0
		}
	}
	e.head = k
	return e.total
}

// resetAt returns the nanoseconds from t until the oldest counted hit
// leaves the window (the window's size when nothing is counted).
func (e *entry) resetAt(t int64) int64 {
	n := len(e.counts)
	s := e.slot(e.head + 1) // the oldest counted bucket, head-n+1
	for i := range n {
		if e.counts[s] != 0 {
			// bucket head-n+1+i stops counting when bucket head+1+i starts
			return max((e.head+1+int64(i))*e.width+e.off-t, 0)
		}
		if s++; s == n {
			s = 0
		}
	}
	return int64(e.win.Size)
}

// expired reports whether nothing counted at t is left: the newest bucket
// stops counting when bucket head+len(counts) starts.
func (e *entry) expired(t int64) bool { return (e.head+int64(len(e.counts)))*e.width+e.off <= t }

func (s *shard) sweep(t int64) {
	if t < s.nextSweep {
		return
	}
	s.nextSweep = t + sweepEvery
	for k, e := range s.m {
		if e.expired(t) {
			delete(s.m, k)
		}
	}
}
