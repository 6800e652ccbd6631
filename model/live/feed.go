package live

import (
	"context"
	"sync"
	"sync/atomic"
)

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
