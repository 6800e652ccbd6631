package store

import (
	"slices"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

type samples []float64

func (s *samples) Observe(v float64) { *s = append(*s, v) }

// TestCommitTimes: the delay from a commit to its watch event is
// observed once, whichever comes first; other writers' events are not.
func TestCommitTimes(t *testing.T) {
	var got samples
	var c commitTimes
	ev := func(rev int64) []*clientv3.Event {
		return []*clientv3.Event{{Kv: &mvccpb.KeyValue{ModRevision: rev}}, {Kv: &mvccpb.KeyValue{ModRevision: rev}}}
	}
	t0 := time.Now()
	c.commit(10, t0, &got)
	c.events(ev(10), t0.Add(500*time.Millisecond), &got) // 0.5 s
	c.events(ev(11), t0, &got)                           // before its commit returned: 0
	c.commit(11, t0.Add(time.Second), &got)
	c.events(ev(12), t0, &got) // another writer's
	if !slices.Equal(got, samples{0.5, 0}) {
		t.Fatalf("observed %v, want [0.5 0]", got)
	}
}
