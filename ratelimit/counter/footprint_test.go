package counter

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkMemoryFootprint fills a memory counter with one million live
// counters keyed as the service keys them (an app limit of an exclusive
// policy, 10 buckets) and reports the heap and resident memory they take
// per counter, and what a full garbage collection costs with them live
// against the same collection without them (the collector must not have
// to scan counters: they slow every request of the process otherwise).
// The naive mutex-map counter (one string key and one pointer per
// counter, the layout of the memory counter before it was made compact)
// runs alongside. Run with -benchtime=1x.
func BenchmarkMemoryFootprint(b *testing.B) {
	const n = 1_000_000
	w := Sliding(time.Minute, 10)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "{default/e1/api:2c9a4f0e5d}app/" + strconv.FormatInt(int64(9_000_000_000+i), 36) + "-app"
	}
	for _, c := range []struct {
		name string
		new  func() Counter
	}{
		{"memory", func() Counter { return NewMemory() }},
		{"naive", func() Counter { return &naive{m: map[string]*[2]int64{}} }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				gcBase := gcTime()
				heap0, rss0 := memNow()
				ctr := c.new()
				out := make([]Result, 1)
				now := time.Now()
				for _, k := range keys {
					if err := ctr.Take(context.Background(), now, []Item{{Key: k, Limit: 100, Hits: 1, Window: w}}, out); err != nil {
						b.Fatal(err)
					}
				}
				heap1, rss1 := memNow()
				gcLive := gcTime()
				b.ReportMetric(float64(heap1-heap0)/n, "heap-B/counter")
				if c.name == "memory" {
					b.Logf("memory counter, heap per live counter: %.0f B (target ≤ 150 B): %s", float64(heap1-heap0)/n, map[bool]string{true: "met", false: "NOT met"}[float64(heap1-heap0)/n <= 150])
				}
				b.ReportMetric(float64(rss1-rss0)/n, "rss-B/counter")
				b.ReportMetric(float64(gcLive)/1e6, "gc-ms")
				b.ReportMetric(float64(gcLive)/float64(gcBase), "gc-x-without")
				runtime.KeepAlive(ctr)
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// memNow returns the live heap and the resident set after a collection.
func memNow() (heap, rss int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, _ := os.ReadFile("/proc/self/statm")
	if f := strings.Fields(string(b)); len(f) > 1 {
		pages, _ := strconv.ParseInt(f[1], 10, 64)
		rss = pages * int64(os.Getpagesize())
	}
	return int64(ms.HeapAlloc), rss
}

// gcTime returns the wall time of the fastest of three full collections.
func gcTime() time.Duration {
	best := time.Duration(1 << 62)
	for range 3 {
		t := time.Now()
		runtime.GC()
		best = min(best, time.Since(t))
	}
	return best
}
