package counter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// epoch is a round instant: windows of whole seconds start on it.
var epoch = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return epoch.Add(d) }

// conformance runs the behaviour every Counter must have. newCounter
// returns a fresh, empty counter; keys are unique per subtest anyway.
func conformance(t *testing.T, newCounter func(t *testing.T) Counter) {
	t.Run("FixedWindowEdges", func(t *testing.T) { testFixedEdges(t, newCounter(t)) })
	t.Run("FixedWindowOffset", func(t *testing.T) { testFixedOffset(t, newCounter(t)) })
	t.Run("SlidingNoDoubleBurst", func(t *testing.T) { testSlidingEdge(t, newCounter(t)) })
	t.Run("SlidingMatchesModel", func(t *testing.T) { testSlidingModel(t, newCounter(t)) })
	t.Run("AllOrNothing", func(t *testing.T) { testAllOrNothing(t, newCounter(t)) })
	t.Run("DuplicateKeys", func(t *testing.T) { testDuplicateKeys(t, newCounter(t)) })
	t.Run("LimitEditKeepsCount", func(t *testing.T) { testLimitEdit(t, newCounter(t)) })
	t.Run("HitsAddend", func(t *testing.T) { testHits(t, newCounter(t)) })
	t.Run("ExactUnderConcurrency", func(t *testing.T) { testConcurrency(t, newCounter(t), "{t}conc-app-%d") })
	t.Run("ExactAcrossSlots", func(t *testing.T) { testConcurrency(t, newCounter(t), "{q}conc-quota-%d") })
	t.Run("InvalidWindow", func(t *testing.T) { testInvalid(t, newCounter(t)) })
	t.Run("ManyItems", func(t *testing.T) { testManyItems(t, newCounter(t)) })
	t.Run("PeekDoesNotCount", func(t *testing.T) { testPeek(t, newCounter(t)) })
}

func take(t *testing.T, c Counter, now time.Time, items ...Item) []Result {
	t.Helper()
	out := make([]Result, len(items))
	if err := c.Take(context.Background(), now, items, out); err != nil {
		t.Fatalf("Take: %v", err)
	}
	return out
}

func item(key string, limit uint64, w Window) Item {
	return Item{Key: key, Limit: limit, Hits: 1, Window: w}
}

func testFixedEdges(t *testing.T, c Counter) {
	it := item("{t}fixed", 3, Fixed(time.Minute, 0))
	for i := range 3 {
		r := take(t, c, at(59*time.Second), it)[0]
		if r.Over || r.Count != uint64(i+1) {
			t.Fatalf("hit %d: got %+v", i+1, r)
		}
		if r.Reset != time.Second {
			t.Fatalf("reset = %v, want 1s to the window's end", r.Reset)
		}
	}
	if r := take(t, c, at(59*time.Second+999*time.Millisecond), it)[0]; !r.Over || r.Count != 3 {
		t.Fatalf("4th hit in the window: got %+v, want over with count 3", r)
	}
	// The next window starts exactly at the minute.
	if r := take(t, c, at(time.Minute), it)[0]; r.Over || r.Count != 1 || r.Reset != time.Minute {
		t.Fatalf("first hit of the next window: got %+v", r)
	}
}

func testFixedOffset(t *testing.T, c Counter) {
	// Windows of an hour starting at 05:05 (a quota's reset time).
	off := 5*time.Hour + 5*time.Minute
	it := item("{q}offset", 2, Fixed(time.Hour, off))
	base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	take(t, c, base.Add(5*time.Hour+4*time.Minute), it) // window 04:05-05:05
	take(t, c, base.Add(5*time.Hour+4*time.Minute), it)
	if r := take(t, c, base.Add(5*time.Hour+4*time.Minute+59*time.Second), it)[0]; !r.Over || r.Reset != time.Second {
		t.Fatalf("before 05:05: got %+v, want over, reset in 1s", r)
	}
	if r := take(t, c, base.Add(5*time.Hour+5*time.Minute), it)[0]; r.Over || r.Count != 1 {
		t.Fatalf("at 05:05: got %+v, want a fresh window", r)
	}
	if r := take(t, c, base.Add(6*time.Hour+4*time.Minute), it)[0]; r.Over || r.Reset != time.Minute {
		t.Fatalf("at 06:04: got %+v, want the same window ending at 06:05", r)
	}
	if r := take(t, c, base.Add(6*time.Hour+4*time.Minute), it)[0]; !r.Over {
		t.Fatalf("3rd hit in 05:05-06:05: got %+v, want over", r)
	}
}

// A fixed window lets 2*limit through around an edge; the sliding window
// must not.
func testSlidingEdge(t *testing.T, c Counter) {
	it := item("{t}slide", 10, Sliding(time.Second, 10))
	for range 10 {
		if r := take(t, c, at(950*time.Millisecond), it)[0]; r.Over {
			t.Fatalf("burst within the limit refused: %+v", r)
		}
	}
	for _, d := range []time.Duration{1000, 1050, 1500, 1949} {
		if r := take(t, c, at(d*time.Millisecond), it)[0]; !r.Over || r.Count != 10 {
			t.Fatalf("at %dms, within a second of the burst: got %+v, want over", d, r)
		} else if want := 2*time.Second - d*time.Millisecond; r.Reset != want {
			t.Fatalf("at %dms: reset %v, want %v (when the burst's bucket leaves)", d, r.Reset, want)
		}
	}
	if r := take(t, c, at(2*time.Second), it)[0]; r.Over || r.Count != 1 {
		t.Fatalf("at 2s, once the burst's bucket left: got %+v", r)
	}
}

// testSlidingModel drives random traffic and checks each answer against a
// direct model: admitted iff the hits admitted in the counted span plus
// this one fit. It also checks the guarantee: no interval of length Size
// holds more than the limit.
func testSlidingModel(t *testing.T, c Counter) {
	const limit = 20
	w := Sliding(time.Second, 4)
	it := item("{t}model", limit, w)
	rng := rand.New(rand.NewPCG(1, 2))
	var admitted []time.Duration
	now := time.Duration(0)
	for range 600 {
		now += time.Duration(rng.IntN(40)) * time.Millisecond
		r := take(t, c, at(now), it)[0]
		k := w.index(at(now).UnixNano())
		spanStart := time.Duration(w.start(k-w.span()) - epoch.UnixNano())
		n := 0
		for _, a := range admitted {
			if a >= spanStart {
				n++
			}
		}
		if want := n+1 > limit; r.Over != want {
			t.Fatalf("at %v: over=%v, model says %v (count %d)", now, r.Over, want, n)
		}
		if !r.Over {
			admitted = append(admitted, now)
		}
	}
	for i := range admitted {
		n := 0
		for _, b := range admitted[i:] {
			if b-admitted[i] < time.Second {
				n++
			}
		}
		if n > limit {
			t.Fatalf("%d hits admitted within a second starting at %v (limit %d)", n, admitted[i], limit)
		}
	}
	if len(admitted) < 100 {
		t.Fatalf("only %d admitted; the model test exercised too little", len(admitted))
	}
}

func testAllOrNothing(t *testing.T, c Counter) {
	w := Sliding(time.Minute, 6)
	api := item("{t}aon-api", 10, w)
	app := item("{t}aon-app", 2, w)
	quota := item("{q}aon-quota", 100, Fixed(time.Hour, 0))
	take(t, c, at(0), api, app, quota)
	take(t, c, at(0), api, app, quota)
	r := take(t, c, at(0), api, app, quota)
	if r[0].Over || !r[1].Over || r[2].Over {
		t.Fatalf("3rd call: got %+v, want only the app over", r)
	}
	if r[0].Count != 2 || r[1].Count != 2 || r[2].Count != 2 {
		t.Fatalf("refused call changed counts: %+v", r)
	}
	if r := take(t, c, at(0), api)[0]; r.Over || r.Count != 3 {
		t.Fatalf("api alone after the refusal: got %+v, want count 3", r)
	}
}

func testDuplicateKeys(t *testing.T, c Counter) {
	it := item("{t}dup", 3, Sliding(time.Minute, 6))
	take(t, c, at(0), it, it) // 2
	if r := take(t, c, at(0), it, it); !r[1].Over {
		t.Fatalf("two more hits on a counter with one left: got %+v, want over", r)
	}
	if r := take(t, c, at(0), it)[0]; r.Over || r.Count != 3 {
		t.Fatalf("one hit: got %+v", r)
	}
}

func testLimitEdit(t *testing.T, c Counter) {
	it := item("{t}edit", 5, Sliding(time.Minute, 6))
	for range 4 {
		take(t, c, at(0), it)
	}
	it.Limit = 4
	if r := take(t, c, at(time.Second), it)[0]; !r.Over || r.Count != 4 {
		t.Fatalf("lowered limit: got %+v, want over with the running count 4", r)
	}
	it.Limit = 6
	if r := take(t, c, at(2*time.Second), it)[0]; r.Over || r.Count != 5 {
		t.Fatalf("raised limit: got %+v, want count 5", r)
	}
	// A different window is a different counter.
	it.Window = Sliding(time.Hour, 6)
	if r := take(t, c, at(3*time.Second), it)[0]; r.Over || r.Count != 1 {
		t.Fatalf("new window: got %+v, want a fresh count", r)
	}
}

func testHits(t *testing.T, c Counter) {
	it := Item{Key: "{t}hits", Limit: 10, Hits: 7, Window: Sliding(time.Minute, 6)}
	if r := take(t, c, at(0), it)[0]; r.Over || r.Count != 7 {
		t.Fatalf("7 hits: %+v", r)
	}
	it.Hits = 4
	if r := take(t, c, at(0), it)[0]; !r.Over || r.Count != 7 {
		t.Fatalf("4 more hits: %+v, want over", r)
	}
	it.Hits = 3
	if r := take(t, c, at(0), it)[0]; r.Over || r.Count != 10 || r.Remaining(10) != 0 {
		t.Fatalf("3 more hits: %+v", r)
	}
}

// testConcurrency hammers shared counters from many goroutines: a request
// touches a hot shared counter and one of a few per-app counters (in the
// same hash slot, or in another one with appKey "{q}..."), all or
// nothing. The admitted totals must match the limits exactly.
func testConcurrency(t *testing.T, c Counter, appKey string) {
	const (
		workers  = 64
		perW     = 60
		apps     = 4
		apiLimit = 2000
		appLimit = 150
	)
	w := Sliding(time.Minute, 6)
	var admitted [apps]atomic.Int64
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			out := make([]Result, 2)
			for i := range perW {
				app := (g + i) % apps
				items := []Item{item("{t}conc-api", apiLimit, w), item(fmt.Sprintf(appKey, app), appLimit, w)}
				if err := c.Take(context.Background(), at(time.Second), items, out); err != nil {
					t.Error(err)
					return
				}
				if !out[0].Over && !out[1].Over {
					admitted[app].Add(1)
				}
			}
		})
	}
	wg.Wait()
	total := int64(0)
	for a := range apps {
		if got := admitted[a].Load(); got != appLimit {
			t.Errorf("app %d: %d admitted, want exactly %d", a, got, appLimit)
		}
		total += admitted[a].Load()
	}
	r := take(t, c, at(time.Second), Item{Key: "{t}conc-api", Limit: apiLimit, Hits: apiLimit, Window: w})[0]
	if r.Count != uint64(total) {
		t.Errorf("api counter %d, want the %d admitted calls", r.Count, total)
	}
}

func testInvalid(t *testing.T, c Counter) {
	out := make([]Result, 1)
	err := c.Take(context.Background(), at(0), []Item{item("{t}bad", 1, Window{})}, out)
	if err == nil {
		t.Fatal("zero window accepted")
	}
}

// A request with many counters (more than any buffer sized for the usual
// few) is admitted all or nothing like any other.
func testManyItems(t *testing.T, c Counter) {
	items := make([]Item, 300)
	for i := range items {
		items[i] = item(fmt.Sprintf("{t}many-%d", i), 2, Sliding(time.Minute, 6))
	}
	items[299].Limit = 1
	for i, want := range []bool{false, true} {
		r := take(t, c, at(0), items...)
		for j := range 299 {
			if r[j].Over || r[j].Count != 1 {
				t.Fatalf("call %d item %d: %+v", i+1, j, r[j])
			}
		}
		if r[299].Over != want {
			t.Fatalf("call %d: last item %+v, want over=%v", i+1, r[299], want)
		}
	}
}
