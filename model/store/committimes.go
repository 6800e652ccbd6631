package store

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxCommitTimes bounds the revisions remembered.
const maxCommitTimes = 256

// commitTimes pairs this store's commits with their watch events to
// measure how long the events take to arrive. An event that arrives
// before its commit call returns counts as no delay.
type commitTimes struct {
	mu        sync.Mutex
	committed ring // revisions committed, event not seen yet
	arrived   ring // revisions seen, commit not returned yet
}

type ring struct {
	revs []int64
	at   map[int64]time.Time
}

func (r *ring) put(rev int64, t time.Time) {
	if r.at == nil {
		r.at = map[int64]time.Time{}
	}
	r.at[rev] = t
	r.revs = append(r.revs, rev)
	if len(r.revs) > maxCommitTimes {
		delete(r.at, r.revs[0])
		r.revs = r.revs[1:]
	}
}

func (r *ring) take(rev int64) (time.Time, bool) {
	t, ok := r.at[rev]
	delete(r.at, rev)
	return t, ok
}

// commit records that a commit at rev returned.
func (c *commitTimes) commit(rev int64, now time.Time, h prometheus.Observer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.arrived.take(rev); ok {
		h.Observe(0)
		return
	}
	c.committed.put(rev, now)
}

// events records the arrival of watch events.
func (c *commitTimes) events(events []*clientv3.Event, received time.Time, h prometheus.Observer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[int64]bool{}
	for _, ev := range events {
		rev := ev.Kv.ModRevision
		if seen[rev] {
			continue
		}
		seen[rev] = true
		if t, ok := c.committed.take(rev); ok {
			h.Observe(received.Sub(t).Seconds())
		} else {
			c.arrived.put(rev, received)
		}
	}
}
