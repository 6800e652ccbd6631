package counter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Redis is a Counter shared by every apigw replica that uses the same
// Redis (standalone, sentinel or cluster). A Take is one round trip: one
// script call per hash slot its items touch, pipelined. The counters of
// one slot are admitted atomically by the script; when a request spans
// slots (Redis Cluster: a throttling scope and a credential quota) and
// one slot refuses, the hits admitted in the others are taken back in a
// second round trip. Keys expire when their last counted bucket leaves
// the window.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	// split groups items by hash slot; true for cluster clients.
	split bool
	take  *redis.Script
	undo  *redis.Script
	m     redisMetrics
	// owned says Close closes client (OpenRedis).
	owned bool
}

var _ Counter = (*Redis)(nil)

// DefaultPrefix starts every key apigw writes.
const DefaultPrefix = "apigw:rl:"

// RedisOption configures a Redis counter.
type RedisOption func(*Redis)

// WithPrefix sets the key prefix (default DefaultPrefix). It must not
// contain '{'.
func WithPrefix(p string) RedisOption { return func(r *Redis) { r.prefix = p } }

// WithTimeout bounds each Take (default 100ms); the caller's deadline
// applies when it is earlier.
func WithTimeout(d time.Duration) RedisOption { return func(r *Redis) { r.timeout = d } }

// WithRedisRegisterer registers the counter's metrics.
func WithRedisRegisterer(reg prometheus.Registerer) RedisOption {
	return func(r *Redis) { r.m.reg = reg }
}

// withSplit forces per-slot grouping (tests exercise the cluster path on
// a standalone server).
func withSplit() RedisOption { return func(r *Redis) { r.split = true } }

// NewRedis returns a counter on client. The caller keeps ownership of
// client (Close does not close it).
func NewRedis(client redis.UniversalClient, opts ...RedisOption) (*Redis, error) {
	_, cluster := client.(*redis.ClusterClient)
	r := &Redis{
		client: client, prefix: DefaultPrefix, timeout: 100 * time.Millisecond, split: cluster,
		take: redis.NewScript(takeScript), undo: redis.NewScript(undoScript),
	}
	for _, o := range opts {
		o(r)
	}
	if strings.ContainsAny(r.prefix, "{}") {
		return nil, fmt.Errorf("counter: redis key prefix %q must not contain braces", r.prefix)
	}
	if err := r.m.init(); err != nil {
		return nil, err
	}
	return r, nil
}

// Take implements Counter.
func (r *Redis) Take(ctx context.Context, now time.Time, items []Item, out []Result) error {
	if err := validate(items, out); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	start := time.Now()
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	t := now.UnixNano()
	groups := r.group(items)
	cmds, err := r.run(ctx, groups, r.take, func(g group) []any { return g.takeArgs(items, t) })
	if err == nil {
		err = r.collect(ctx, groups, cmds, items, t, out)
	}
	r.m.observe(start, err)
	return err
}

// group is the items of one hash slot.
type group struct {
	idx  []int
	keys []string
}

func (g group) takeArgs(items []Item, t int64) []any {
	a := make([]any, 0, len(g.idx)*argsPerKey)
	for _, i := range g.idx {
		it := &items[i]
		w := it.Window
		cur := w.index(t)
		ttl := (w.leaves(cur) - t + int64(time.Millisecond) - 1) / int64(time.Millisecond)
		a = append(a, it.Limit, it.Hits, cur, w.span(), max(ttl, 1))
	}
	return a
}

func (r *Redis) key(it *Item) string { return r.prefix + it.Key + "|" + it.Window.id() }

func (r *Redis) group(items []Item) []group {
	if !r.split {
		g := group{idx: make([]int, len(items)), keys: make([]string, len(items))}
		for i := range items {
			g.idx[i], g.keys[i] = i, r.key(&items[i])
		}
		return []group{g}
	}
	var gs []group
	tags := make([]string, 0, len(items))
	for i := range items {
		k := r.key(&items[i])
		tag := hashTag(k)
		j := 0
		for j < len(tags) && tags[j] != tag {
			j++
		}
		if j == len(tags) {
			tags = append(tags, tag)
			gs = append(gs, group{})
		}
		gs[j].idx = append(gs[j].idx, i)
		gs[j].keys = append(gs[j].keys, k)
	}
	return gs
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

// run sends one script call per group in one round trip, retrying with
// the script's source when Redis lost its script cache.
func (r *Redis) run(ctx context.Context, gs []group, s *redis.Script, args func(group) []any) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(gs))
	if len(gs) == 1 {
		cmds[0] = s.EvalSha(ctx, r.client, gs[0].keys, args(gs[0])...)
	} else {
		_, _ = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, g := range gs {
				cmds[i] = s.EvalSha(ctx, p, g.keys, args(g)...)
			}
			return nil
		})
	}
	for i, c := range cmds {
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			r.m.reloads.Inc()
			cmds[i] = s.Eval(ctx, r.client, gs[i].keys, args(gs[i])...)
		}
		if err := cmds[i].Err(); err != nil {
			return nil, fmt.Errorf("counter: redis: %w", err)
		}
	}
	return cmds, nil
}

// collect reads the script replies into out; if some slot refused, it
// takes back what the others admitted.
func (r *Redis) collect(ctx context.Context, gs []group, cmds []*redis.Cmd, items []Item, t int64, out []Result) error {
	over := false
	admitted := make([]bool, len(gs))
	for gi, c := range cmds {
		vals, err := c.Int64Slice()
		if err != nil || len(vals) != 1+2*len(gs[gi].idx) {
			return fmt.Errorf("counter: redis: unexpected script reply %v: %w", c.Val(), errors.Join(err, errReply))
		}
		admitted[gi] = vals[0] == 1
		over = over || !admitted[gi]
		for j, i := range gs[gi].idx {
			count, oldest := vals[1+2*j], vals[2+2*j]
			w := items[i].Window
			out[i] = Result{Count: uint64(max(count, 0)), Reset: w.Size}
			if oldest >= 0 {
				out[i].Reset = time.Duration(max(w.leaves(oldest)-t, 0))
			}
		}
	}
	if !over {
		return nil
	}
	for gi, g := range gs {
		for _, i := range g.idx {
			if admitted[gi] {
				out[i].Count -= sameKey(items, i, len(items)) // back to before this request
			}
			out[i].Over = out[i].Count+sameKey(items, i, i+1) > items[i].Limit
		}
	}
	return r.compensate(ctx, gs, admitted, items, t)
}

// sameKey sums the hits of items[:upto] on the counter of items[i].
func sameKey(items []Item, i, upto int) uint64 {
	var n uint64
	for j := range upto {
		if items[j].Key == items[i].Key && items[j].Window == items[i].Window {
			n += items[j].Hits
		}
	}
	return n
}

var errReply = errors.New("malformed reply")

func (r *Redis) compensate(ctx context.Context, gs []group, admitted []bool, items []Item, t int64) error {
	var undo []group
	for gi, g := range gs {
		if admitted[gi] {
			undo = append(undo, g)
		}
	}
	if len(undo) == 0 {
		return nil
	}
	r.m.compensations.Inc()
	_, err := r.run(ctx, undo, r.undo, func(g group) []any {
		a := make([]any, 0, 2*len(g.idx))
		for _, i := range g.idx {
			a = append(a, items[i].Hits, items[i].Window.index(t))
		}
		return a
	})
	return err
}

// Ping checks that Redis answers (for readiness probes).
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }

// Close closes the client if the counter opened it (OpenRedis).
func (r *Redis) Close() error {
	if r.owned {
		return r.client.Close()
	}
	return nil
}
