package counter

import (
	"sync"
	"time"
)

const (
	overShards = 64
	// overPerShard bounds the verdicts a shard keeps (about 3 MB in all).
	overPerShard = 1024
)

// OverCache remembers counters found over their limit, so that a remote
// counter's refusals can be answered from memory until they could end.
//
// A counter refused a request's hits at instant t with count c and reset
// r (Result): no bucket it counts leaves before t+r, and the hits of
// refused requests count nowhere, so until t+r its count is at least c,
// and any request whose hits do not fit above c is refused by the
// counter too. Over answers exactly that (the caller's limit and hits, so
// an edited limit is honoured at once); from t+r on it knows nothing
// and the counter decides. The one exception is a Redis Cluster count
// that included hits taken back a moment later for a call another slot
// refused (see Redis): the verdict then holds until t+r nonetheless.
//
// It is safe for concurrent use and costs the garbage collector nothing
// (no pointers per entry).
type OverCache struct {
	seeds  idSeeds
	shards [overShards]overShard
}

type overShard struct {
	mu        sync.Mutex
	m         map[counterID]overEntry
	nextSweep int64
	_         [40]byte
}

type overEntry struct {
	count uint64
	until int64 // Unix nanoseconds
}

// NewOverCache returns an empty cache.
func NewOverCache() *OverCache {
	c := &OverCache{seeds: newIDSeeds()}
	for i := range c.shards {
		c.shards[i].m = map[counterID]overEntry{}
	}
	return c
}

// Over returns the state of it's counter when the cache knows at now that
// it has no room for it.Hits: Over set, the count the counter had when
// it refused, and the time until its oldest counted hit leaves.
func (c *OverCache) Over(now time.Time, it *Item) (Result, bool) {
	id := c.seeds.id(it)
	s := &c.shards[id[0]%overShards]
	t := now.UnixNano()
	s.mu.Lock()
	e, ok := s.m[id]
	s.mu.Unlock()
	if !ok || t >= e.until || e.count+it.Hits <= it.Limit {
		return Result{}, false
	}
	return Result{Over: true, Count: e.count, Reset: time.Duration(e.until - t)}, true
}

// Learn records a counter's answer r to it at now; it keeps refusals only.
func (c *OverCache) Learn(now time.Time, it *Item, r Result) {
	if !r.Over || r.Reset <= 0 {
		return
	}
	id := c.seeds.id(it)
	s := &c.shards[id[0]%overShards]
	t := now.UnixNano()
	e := overEntry{count: r.Count, until: t + int64(r.Reset)}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, known := s.m[id]
	if known && old.until > e.until && old.count >= e.count {
		return // a later reading (another caller's clock) knows more
	}
	if t >= s.nextSweep {
		s.nextSweep = t + int64(time.Second)
		for k, v := range s.m {
			if v.until <= t {
				delete(s.m, k)
			}
		}
	}
	if known || len(s.m) < overPerShard {
		s.m[id] = e
	}
}

// Len returns the number of verdicts held.
func (c *OverCache) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
