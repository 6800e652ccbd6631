package counter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Redis is a Counter shared by every apigw replica that uses the same
// Redis (standalone, sentinel or cluster).
//
// Each Take is one round trip, and concurrent Takes share it: at most a
// few batches are in flight (WithWorkers); a Take that finds one free
// sends itself, with whatever is queued, on its own goroutine, others
// queue and the workers send each queue's worth as one batch. A batch is
// one script call per hash slot (one call in all for a standalone
// server), pipelined in one round trip. The script admits the
// batch's requests one after the other, each all or nothing, so the
// result is exact. When a request spans hash slots (Redis Cluster: a
// throttling scope and a credential quota) and one slot refuses it, the
// hits admitted in the others are taken back in a second round trip.
// Keys expire when their last counted bucket leaves the window.
type Redis struct {
	client   redis.UniversalClient
	prefix   string
	timeout  time.Duration
	workers  int
	maxBatch int
	// split groups items by hash slot; true for cluster clients.
	split bool
	take  *redis.Script
	undo  *redis.Script
	m     redisMetrics
	// owned says Close closes client (OpenRedis).
	owned bool

	queue chan *pending
	// slots holds one token per batch in flight (capacity workers).
	slots     chan struct{}
	pendings  sync.Pool
	quit      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

var _ Counter = (*Redis)(nil)

// DefaultPrefix starts every key apigw writes.
const DefaultPrefix = "apigw:rl:"

// ErrClosed is returned by Take after Close.
var ErrClosed = errors.New("counter: redis counter closed")

// RedisOption configures a Redis counter.
type RedisOption func(*Redis)

// WithPrefix sets the key prefix (default DefaultPrefix). It must not
// contain braces.
func WithPrefix(p string) RedisOption { return func(r *Redis) { r.prefix = p } }

// WithTimeout bounds each round trip (default 100ms); a caller whose
// deadline is earlier stops waiting at its deadline.
func WithTimeout(d time.Duration) RedisOption { return func(r *Redis) { r.timeout = d } }

// WithWorkers sets how many batches may be in flight at once (default
// 2): more overlap round trips, fewer make bigger batches.
func WithWorkers(n int) RedisOption { return func(r *Redis) { r.workers = max(n, 1) } }

// WithRedisRegisterer registers the counter's metrics.
func WithRedisRegisterer(reg prometheus.Registerer) RedisOption {
	return func(r *Redis) { r.m.reg = reg }
}

// withSplit forces per-slot grouping (tests exercise the cluster path on
// a standalone server).
func withSplit() RedisOption { return func(r *Redis) { r.split = true } }

// NewRedis returns a counter on client and starts its workers; Close
// stops them. The caller keeps ownership of client.
func NewRedis(client redis.UniversalClient, opts ...RedisOption) (*Redis, error) {
	_, cluster := client.(*redis.ClusterClient)
	r := &Redis{
		client: client, prefix: DefaultPrefix, timeout: 100 * time.Millisecond, workers: 2, maxBatch: 256,
		split: cluster, take: redis.NewScript(takeScript), undo: redis.NewScript(undoScript),
		queue: make(chan *pending, 1024), quit: make(chan struct{}),
	}
	for _, o := range opts {
		o(r)
	}
	r.slots = make(chan struct{}, r.workers)
	if strings.ContainsAny(r.prefix, "{}") {
		return nil, fmt.Errorf("counter: redis key prefix %q must not contain braces", r.prefix)
	}
	if err := r.m.init(); err != nil {
		return nil, err
	}
	for range r.workers {
		r.wg.Go(r.work)
	}
	return r, nil
}

// pending is one Take waiting for its batch. The batch's sender owns it
// (and copies of the caller's items, whose keys it does not use: a
// caller that gives up at its deadline may reuse items, their keys and
// out at once; the pending is then left to the garbage collector).
type pending struct {
	items []Item
	keys  []string // storage keys, pointing into keyBuf
	res   []Result
	t     int64
	ctx   context.Context
	done  chan error
	// storage for the common case of a few items, and for the batch this
	// Take sends itself
	batchBuf [8]*pending
	itemBuf  [8]Item
	keyBuf   []byte
	keyArr   [8]string
	resBuf   [8]Result
}

func (r *Redis) newPending(ctx context.Context, items []Item, t int64) *pending {
	p, _ := r.pendings.Get().(*pending)
	if p == nil {
		p = &pending{done: make(chan error, 1)}
	}
	p.ctx, p.t = ctx, t
	n := len(items)
	if n <= len(p.itemBuf) {
		p.items, p.keys, p.res = p.itemBuf[:n], p.keyArr[:n], p.resBuf[:n]
	} else {
		p.items, p.keys, p.res = make([]Item, n), make([]string, n), make([]Result, n)
	}
	copy(p.items, items)
	clear(p.res)
	// The keys, in one buffer: lengths first, strings once it is final.
	b := p.keyBuf[:0]
	for i := range items {
		n := len(b)
		b = appendStorageKey(b, r.prefix, &items[i])
		p.items[i].Key = ""                 // the caller's: not to be used past Take
		p.res[i].Count = uint64(len(b) - n) // the key's length, for now
	}
	p.keyBuf = b
	for i := range items {
		n := int(p.res[i].Count)
		p.keys[i], b = unsafe.String(unsafe.SliceData(b), n), b[n:]
	}
	clear(p.res)
	return p
}

// release returns a pending whose batch has answered to the pool.
func (r *Redis) release(p *pending) {
	p.ctx, p.items, p.keys, p.res = nil, nil, nil, nil
	r.pendings.Put(p)
}

// appendStorageKey appends the Redis key of an item's counter: the
// prefix, the item's key and its window (a changed window is a new
// counter).
func appendStorageKey(b []byte, prefix string, it *Item) []byte {
	b = append(append(append(b, prefix...), it.Key...), '|')
	return it.Window.appendID(b)
}

// Take implements Counter.
func (r *Redis) Take(ctx context.Context, now time.Time, items []Item, out []Result) error {
	if err := validate(items, out); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	select {
	case <-r.quit:
		return ErrClosed
	default:
	}
	p := r.newPending(ctx, items, now.UnixNano())
	select {
	case r.slots <- struct{}{}:
		// A batch may go now: send this Take, and any queued, from here.
		batch := r.drain(append(p.batchBuf[:0], p))
		r.flush(batch)
		clear(batch)
		<-r.slots
	default:
		select {
		case r.queue <- p:
		case <-ctx.Done():
			return ctx.Err()
		case <-r.quit:
			return ErrClosed
		}
	}
	select {
	case err := <-p.done:
		if err == nil {
			copy(out, p.res)
		}
		r.release(p)
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-r.quit:
		return ErrClosed
	}
}

// drain adds the queued Takes to batch, up to maxBatch.
func (r *Redis) drain(batch []*pending) []*pending {
	for len(batch) < r.maxBatch {
		select {
		case p := <-r.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

func (r *Redis) work() {
	batch := make([]*pending, 0, r.maxBatch)
	for {
		select {
		case <-r.quit:
			return
		case p := <-r.queue:
			batch = append(batch[:0], p)
		}
		select {
		case r.slots <- struct{}{}:
		case <-r.quit:
			p := batch[0]
			p.done <- ErrClosed
			return
		}
		r.flush(r.drain(batch))
		<-r.slots
		clear(batch)
	}
}

// Ping checks that Redis answers (for readiness probes).
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }

// Close stops the workers (Takes still queued fail with ErrClosed) and
// closes the client if the counter opened it (OpenRedis).
func (r *Redis) Close() error {
	var err error
	r.closeOnce.Do(func() {
		close(r.quit)
		r.wg.Wait()
		if r.owned {
			err = r.client.Close()
		}
	})
	for {
		select {
		case p := <-r.queue:
			p.done <- ErrClosed
		default:
			return err
		}
	}
}

// hashTag returns what Redis Cluster hashes a key by: the content of its
// first non-empty {...}, else the whole key.
func hashTag(key string) string {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			return key[s+1 : s+1+e]
		}
	}
	return key
}
