package store

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
)

// cacheWait bounds how long Load waits for the watch to catch up before
// reading etcd directly.
const cacheWait = 2 * time.Second

// cache is the watcher's decoded view of the keyspace, for Load.
type cache struct {
	view atomic.Pointer[cachedView]
	// minRev is the highest revision this store wrote or saw in a
	// conflict; a view older than it is not used.
	minRev atomic.Int64
	mu     sync.Mutex
	next   chan struct{} // closed at the next publish
}

type cachedView struct {
	snap *live.Snapshot
	gens map[string]generation
}

// generation is the state of an instance's generation key.
type generation struct{ modRev, value int64 }

func (c *cache) saw(rev int64) {
	for {
		cur := c.minRev.Load()
		if rev <= cur || c.minRev.CompareAndSwap(cur, rev) {
			return
		}
	}
}

func (c *cache) publish(v *cachedView) {
	c.view.Store(v)
	c.mu.Lock()
	if c.next != nil {
		close(c.next)
		c.next = nil
	}
	c.mu.Unlock()
}

func (c *cache) changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.next = make(chan struct{})
	}
	return c.next
}

// load returns the instance from a view at least as new as minRev, or nil
// when there is none within cacheWait (Watch not running, or behind).
func (c *cache) load(ctx context.Context, instance string) *Loaded {
	timeout := time.NewTimer(cacheWait)
	defer timeout.Stop()
	for {
		ch := c.changed()
		v := c.view.Load()
		if v == nil {
			return nil
		}
		if v.snap.Revision >= c.minRev.Load() {
			return v.loaded(instance)
		}
		select {
		case <-ch:
		case <-timeout.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

func (v *cachedView) loaded(instance string) *Loaded {
	in := v.snap.Instance(instance)
	if in == nil {
		in = model.NewInstance(instance, nil)
	}
	l := &Loaded{Instance: in, Revision: v.snap.Revision}
	prefix, key := InstancePrefix(instance), InstanceKey(instance)
	for _, o := range v.snap.Invalid {
		if strings.HasPrefix(o.Key, prefix) || o.Key == key {
			l.Invalid = append(l.Invalid, o)
		}
	}
	g := v.gens[instance]
	l.genRev, l.gen = g.modRev, g.value
	return l
}

// parseGeneration decodes a generation key.
func parseGeneration(key string, value []byte, modRev int64) (string, generation, bool) {
	inst, ok := strings.CutPrefix(key, Prefix+"generations/")
	if !ok || inst == "" {
		return "", generation{}, false
	}
	n, _ := strconv.ParseInt(string(value), 10, 64)
	return inst, generation{modRev: modRev, value: n}, true
}
