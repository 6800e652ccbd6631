package counter

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// Peeker reads counters without changing them: a dry run of Take.
type Peeker interface {
	// Peek reports what Take would at instant now (the same results) but
	// counts nothing.
	Peek(ctx context.Context, now time.Time, items []Item, out []Result) error
}

var (
	_ Peeker = (*Memory)(nil)
	_ Peeker = (*Redis)(nil)
)

// countAt is the count of a ring of buckets whose newest is head, read at
// bucket k: buckets newer than head are empty, those k has left behind no
// longer count. A k before head (clock skew) reads at head, as Take does.
func countAt(ring []uint32, head, k int64, pos func(int64) int) uint64 {
	n := int64(len(ring))
	if k < head {
		k = head
	}
	var sum uint64
	for i := max(head-n+1, k-n+1); i <= head; i++ {
		sum += uint64(ring[pos(i)])
	}
	return sum
}

// Peek implements Peeker.
func (m *Memory) Peek(_ context.Context, now time.Time, items []Item, out []Result) error {
	if err := validate(items, out); err != nil {
		return err
	}
	t := now.UnixNano()
	ids := make([]counterID, len(items))
	for i := range items {
		it := &items[i]
		ids[i] = m.seeds.id(it)
		sh := &m.shards[ids[i][0]%memoryShards]
		ring := int(it.Window.span()) + 1
		var count uint64
		reset := int64(it.Window.Size)
		sh.mu.Lock()
		for _, tb := range sh.tables {
			if tb.ring != ring {
				continue
			}
			if r, ok := tb.index[ids[i]]; ok {
				count = countAt(tb.ringOf(int(r)), *tb.head(int(r)), it.Window.index(t), tb.pos)
				if count > 0 {
					reset = tb.resetAt(int(r), &it.Window, t)
				}
			}
		}
		sh.mu.Unlock()
		out[i] = peekResult(items, ids, i, count, time.Duration(reset))
	}
	admitAll(items, ids, out)
	return nil
}

// peekResult is item i's answer before the all-or-nothing rule: its hits
// and those of earlier items on the same counter against the limit.
func peekResult[K comparable](items []Item, ids []K, i int, count uint64, reset time.Duration) Result {
	pending := items[i].Hits
	for j := range i {
		if ids[j] == ids[i] {
			pending += items[j].Hits
		}
	}
	return Result{Over: count+pending > min(items[i].Limit, maxCount), Count: count, Reset: reset}
}

// admitAll gives out what Take returns when no item is over: each count
// with every hit of the call on its counter.
func admitAll[K comparable](items []Item, ids []K, out []Result) {
	for i := range items {
		if out[i].Over {
			return
		}
	}
	for i := range items {
		for j := range items {
			if ids[j] == ids[i] {
				out[i].Count += items[j].Hits
			}
		}
	}
}

// Peek implements Peeker: it reads the counters' keys (one GET each,
// pipelined) and computes their counts as the script does.
func (r *Redis) Peek(ctx context.Context, now time.Time, items []Item, out []Result) error {
	if err := validate(items, out); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	keys := make([]string, len(items))
	cmds := make([]*redis.StringCmd, len(items))
	pipe := r.client.Pipeline()
	for i := range items {
		keys[i] = string(appendStorageKey(nil, r.prefix, &items[i]))
		cmds[i] = pipe.Get(ctx, keys[i])
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	t := now.UnixNano()
	for i := range items {
		it := &items[i]
		var count uint64
		b, err := cmds[i].Bytes()
		n := int(it.Window.span()) + 1
		if err == nil && len(b) == 8*(n+1) {
			head := int64(math.Float64frombits(binary.LittleEndian.Uint64(b)))
			ring := make([]uint32, n)
			for q := range n {
				ring[q] = uint32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*(q+1):])))
			}
			pos := func(x int64) int { return int(((x % int64(n)) + int64(n)) % int64(n)) }
			count = countAt(ring, head, it.Window.index(t), pos)
		}
		out[i] = peekResult(items, keys, i, count, it.Window.Size)
	}
	admitAll(items, keys, out)
	return nil
}
