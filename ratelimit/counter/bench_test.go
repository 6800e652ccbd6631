package counter

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigw/apigw/ratelimit/internal/redistest"
)

// naive is the baseline: one mutex over one map of fixed-window counts,
// the simplest correct counter (with the 2x edge burst Memory avoids).
type naive struct {
	mu sync.Mutex
	m  map[string]*[2]int64 // key → window index, count
}

func (n *naive) Take(_ context.Context, now time.Time, items []Item, out []Result) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := now.UnixNano()
	over := false
	for i, it := range items {
		w := t / int64(it.Window.Size)
		e := n.m[it.Key]
		if e == nil || e[0] != w {
			e = &[2]int64{w, 0}
			n.m[it.Key] = e
		}
		out[i] = Result{Count: uint64(e[1]), Over: uint64(e[1])+it.Hits > it.Limit}
		over = over || out[i].Over
	}
	if !over {
		for i, it := range items {
			n.m[it.Key][1] += int64(it.Hits)
			out[i].Count += it.Hits
		}
	}
	return nil
}

// BenchmarkTake compares the counters on the same workload: parallel
// takes of one request's worth of items (api + app + ip counters, as a
// route sends), over 1000 apps, limits never reached. "naive" is the
// mutex-map baseline; "redis" a Redis started by the benchmark.
func BenchmarkTake(b *testing.B) {
	counters := []struct {
		name string
		new  func(b *testing.B) Counter
	}{
		{"naive", func(*testing.B) Counter { return &naive{m: map[string]*[2]int64{}} }},
		{"memory", func(*testing.B) Counter { return NewMemory() }},
		{"redis", func(b *testing.B) Counter {
			r, err := OpenRedis(redistest.Start(b).Addr, WithTimeout(5*time.Second)) // a loaded machine must not fail it
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = r.Close() })
			return r
		}},
	}
	w := Sliding(time.Minute, 10)
	reqs := make([][]Item, 1000)
	for i := range reqs {
		reqs[i] = []Item{
			{Key: "{s}api", Limit: 1 << 40, Hits: 1, Window: w},
			{Key: "{s}app/" + strconv.Itoa(i), Limit: 1 << 40, Hits: 1, Window: w},
			{Key: "{s}ip/10.0.0." + strconv.Itoa(i%250), Limit: 1 << 40, Hits: 1, Window: w},
		}
	}
	for _, par := range []int{1, 8, 32} { // goroutines per CPU
		for _, c := range counters {
			b.Run(c.name+"/goroutines="+strconv.Itoa(par)+"xCPU", func(b *testing.B) {
				ctr := c.new(b)
				var seq atomic.Int64
				now := time.Now()
				b.SetParallelism(par)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					out := make([]Result, 3)
					for pb.Next() {
						i := seq.Add(1)
						if err := ctr.Take(context.Background(), now, reqs[i%int64(len(reqs))], out); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
