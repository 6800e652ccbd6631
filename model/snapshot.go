package model

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
)

// Snapshot is an immutable, revision-stamped view of every instance. The
// data-plane components serve from the latest one and never modify it.
type Snapshot struct {
	// Revision is the etcd revision the snapshot reflects.
	Revision  int64
	instances map[string]*Instance
	// Invalid lists the objects in the store that failed validation.
	Invalid []InvalidObject
}

// InvalidObject is an object in the store that apigw could not use.
type InvalidObject struct {
	Key         string
	ModRevision int64
	Reason      string
	// InForce says that an earlier good version is still being served.
	InForce bool
}

// NewSnapshot assembles a snapshot. Instance "default" always exists.
func NewSnapshot(rev int64, instances map[string]*Instance, invalid []InvalidObject) *Snapshot {
	m := make(map[string]*Instance, len(instances)+1)
	for k, v := range instances {
		m[k] = v
	}
	if m[DefaultInstance] == nil {
		m[DefaultInstance] = NewInstance(DefaultInstance, nil)
	}
	return &Snapshot{Revision: rev, instances: m, Invalid: invalid}
}

// Instance returns an instance by name, or nil.
func (s *Snapshot) Instance(name string) *Instance { return s.instances[name] }

// Instances returns every instance, sorted by name.
func (s *Snapshot) Instances() []*Instance {
	out := make([]*Instance, 0, len(s.instances))
	for _, in := range s.instances {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Feed distributes snapshots: Current for lock-free reads on request paths,
// Subscribe for components that rebuild on change.
type Feed struct {
	cur   atomic.Pointer[Snapshot]
	mu    sync.Mutex
	subs  map[chan *Snapshot]struct{}
	ready chan struct{}
	once  sync.Once
}

// NewFeed returns an empty feed.
func NewFeed() *Feed {
	return &Feed{subs: map[chan *Snapshot]struct{}{}, ready: make(chan struct{})}
}

// Publish makes s current and notifies subscribers. A subscriber that has
// not consumed the previous snapshot only sees the newest.
func (f *Feed) Publish(s *Snapshot) {
	f.cur.Store(s)
	f.once.Do(func() { close(f.ready) })
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case <-ch:
		default:
		}
		ch <- s
	}
}

// Current returns the latest snapshot (nil before the first).
func (f *Feed) Current() *Snapshot { return f.cur.Load() }

// Ready is closed once the first snapshot is published.
func (f *Feed) Ready() <-chan struct{} { return f.ready }

// Subscribe returns a channel that receives the current snapshot, if any,
// and then every newer one. It is closed when ctx ends.
func (f *Feed) Subscribe(ctx context.Context) <-chan *Snapshot {
	ch := make(chan *Snapshot, 1)
	f.mu.Lock()
	if s := f.cur.Load(); s != nil {
		ch <- s
	}
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		delete(f.subs, ch)
		close(ch)
		f.mu.Unlock()
	}()
	return ch
}
