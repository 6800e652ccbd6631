package counter

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// call is one script call: the parts of the batch's requests that live
// in one hash slot.
type call struct {
	keys  []string
	index map[string]int // key → position in keys
	span  []int64        // per key
	subs  []sub
	items []int // the subs' indices into their requests' items
	blob  []byte
}

// sub is the part of one request in a call: p.items[i] for i in
// c.items[from:to].
type sub struct {
	p        *pending
	from, to int
	admitted bool
}

func (s *sub) idx(c *call) []int { return c.items[s.from:s.to] }

// planner is the working memory of a batch's calls, reused.
type planner struct {
	calls []*call
	made  []*call // every call made, for reuse
	slots map[string]*call
}

var planners = sync.Pool{New: func() any { return &planner{slots: map[string]*call{}} }}

// plan splits a batch into script calls, keeping the batch's order.
func (r *Redis) plan(pl *planner, batch []*pending) []*call {
	pl.calls = pl.calls[:0]
	clear(pl.slots)
	for _, p := range batch {
		for i := range p.items {
			slot := ""
			if r.split {
				slot = hashTag(p.keys[i])
			}
			c := pl.slots[slot]
			if c == nil {
				c = pl.call()
				pl.slots[slot] = c
			}
			// p's sub in c is the last one if p has one: p's items are
			// planned together.
			si := len(c.subs) - 1
			if si < 0 || c.subs[si].p != p {
				si = len(c.subs)
				c.subs = append(c.subs, sub{p: p, from: len(c.items)})
			}
			c.items = append(c.items, i)
			c.subs[si].to = len(c.items)
			if _, ok := c.index[p.keys[i]]; !ok {
				c.index[p.keys[i]] = len(c.keys)
				c.keys = append(c.keys, p.keys[i])
				c.span = append(c.span, p.items[i].Window.span())
			}
		}
	}
	return pl.calls
}

// call returns an empty call, the batch's next.
func (pl *planner) call() *call {
	var c *call
	if n := len(pl.calls); n < len(pl.made) {
		c = pl.made[n]
		clear(c.index)
		clear(c.subs) // no pendings kept alive
		clear(c.keys)
		c.keys, c.span, c.subs, c.items = c.keys[:0], c.span[:0], c.subs[:0], c.items[:0]
	} else {
		c = &call{index: map[string]int{}}
		pl.made = append(pl.made, c)
	}
	pl.calls = append(pl.calls, c)
	return c
}

// args encodes the call's ARGV blob (see takeScript).
func (c *call) args() []any {
	n := len(c.keys) + 1
	for _, s := range c.subs {
		n += 1 + itemArgs*(s.to-s.from)
	}
	b := slices.Grow(c.blob[:0], 8*n)
	put := func(v int64) { b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(v))) }
	for _, sp := range c.span {
		put(sp)
	}
	put(int64(len(c.subs)))
	for _, s := range c.subs {
		put(int64(s.to - s.from))
		for _, i := range s.idx(c) {
			it := &s.p.items[i]
			w := it.Window
			cur := w.index(s.p.t)
			ttl := (w.leaves(cur) - s.p.t + int64(time.Millisecond) - 1) / int64(time.Millisecond)
			put(int64(c.index[s.p.keys[i]] + 1))
			put(int64(min(it.Limit, maxExact)))
			put(int64(min(it.Hits, maxExact)))
			put(cur)
			put(max(ttl, 1))
		}
	}
	c.blob = b
	return []any{b}
}

// maxExact is the largest count a double holds exactly.
const maxExact = 1 << 53

// flush runs a batch and answers its requests.
func (r *Redis) flush(batch []*pending) {
	start := time.Now()
	// Takes whose callers gave up while queued are not counted: nobody
	// would learn they were admitted.
	live := batch[:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- err
			continue
		}
		live = append(live, p)
	}
	batch = live
	if len(batch) == 0 {
		return
	}
	// A batch of one Take ends at its caller's deadline too (the caller
	// may be the one sending it); a larger one serves callers with
	// different deadlines.
	base := context.Background()
	if len(batch) == 1 {
		base = batch[0].ctx
	}
	ctx, cancel := context.WithTimeout(base, r.timeout)
	defer cancel()
	pl := planners.Get().(*planner)
	calls := r.plan(pl, batch)
	err := r.exec(ctx, calls)
	if err == nil {
		err = r.settle(ctx, batch, calls)
	}
	for _, c := range calls {
		clear(c.subs) // no pendings kept alive
	}
	planners.Put(pl)
	r.m.observe(start, len(batch), err)
	for _, p := range batch {
		p.done <- err
	}
}

// exec sends the calls in one round trip and reads the replies into the
// requests' results.
func (r *Redis) exec(ctx context.Context, calls []*call) error {
	cmds, err := r.run(ctx, r.take, len(calls), func(i int) ([]string, []any) { return calls[i].keys, calls[i].args() })
	if err != nil {
		return err
	}
	for ci, c := range calls {
		reply, err := cmds[ci].Text()
		if err != nil {
			return fmt.Errorf("counter: redis: unexpected script reply: %w", err)
		}
		pos := 0
		val := func() int64 {
			v := math.Float64frombits(binary.LittleEndian.Uint64([]byte(reply[pos : pos+8])))
			pos += 8
			return int64(v)
		}
		for si := range c.subs {
			s := &c.subs[si]
			if pos+8*(1+2*(s.to-s.from)) > len(reply) {
				return fmt.Errorf("counter: redis: script reply too short (%d bytes)", len(reply))
			}
			s.admitted = val() == 1
			for _, i := range s.idx(c) {
				count, oldest := val(), val()
				w := s.p.items[i].Window
				s.p.res[i] = Result{Count: uint64(max(count, 0)), Reset: w.Size}
				if oldest >= 0 {
					s.p.res[i].Reset = time.Duration(max(w.leaves(oldest)-s.p.t, 0))
				}
			}
		}
	}
	return nil
}

// run sends n script calls in one round trip (a pipeline when n > 1),
// resending with the script's source when Redis lost its script cache.
func (r *Redis) run(ctx context.Context, s *redis.Script, n int, call func(int) ([]string, []any)) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, n)
	if n == 1 {
		keys, args := call(0)
		cmds[0] = s.EvalSha(ctx, r.client, keys, args...)
	} else {
		_, _ = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range n {
				keys, args := call(i)
				cmds[i] = s.EvalSha(ctx, p, keys, args...)
			}
			return nil
		})
	}
	for i, c := range cmds {
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			r.m.reloads.Inc()
			keys, args := call(i)
			cmds[i] = s.Eval(ctx, r.client, keys, args...)
		}
		if err := cmds[i].Err(); err != nil {
			return nil, fmt.Errorf("counter: redis: %w", err)
		}
	}
	return cmds, nil
}

// settle finishes requests some slot refused: their results say which
// items are over and show the counts before the request, and the hits
// other slots admitted are taken back.
func (r *Redis) settle(ctx context.Context, batch []*pending, calls []*call) error {
	refused := map[*pending]bool{}
	for _, c := range calls {
		for _, s := range c.subs {
			if !s.admitted {
				refused[s.p] = true
			}
		}
	}
	if len(refused) == 0 {
		return nil
	}
	type undoCall struct {
		keys []string
		args []any // per key: span, hits, bucket
	}
	var undo []undoCall
	for _, c := range calls {
		var u undoCall
		for _, s := range c.subs {
			if !refused[s.p] || !s.admitted {
				continue
			}
			for _, i := range s.idx(c) {
				it := &s.p.items[i]
				s.p.res[i].Count -= s.p.sameKey(i, len(s.p.items))
				u.keys = append(u.keys, s.p.keys[i])
				u.args = append(u.args, it.Window.span(), it.Hits, it.Window.index(s.p.t))
			}
		}
		if len(u.keys) > 0 {
			undo = append(undo, u)
		}
	}
	for p := range refused {
		for i := range p.items {
			p.res[i].Over = p.res[i].Count+p.sameKey(i, i+1) > p.items[i].Limit
		}
	}
	if len(undo) == 0 {
		return nil
	}
	r.m.compensations.Add(float64(len(undo)))
	_, err := r.run(ctx, r.undo, len(undo), func(i int) ([]string, []any) { return undo[i].keys, undo[i].args })
	return err
}

// sameKey sums the hits of p's items[:upto] on the counter of items[i]
// (by storage key: the caller's keys may be gone).
func (p *pending) sameKey(i, upto int) uint64 {
	var n uint64
	for j := range upto {
		if p.keys[j] == p.keys[i] {
			n += p.items[j].Hits
		}
	}
	return n
}
