package counter

import (
	"strconv"
	"testing"
	"time"
)

func TestMemoryConformance(t *testing.T) {
	conformance(t, func(*testing.T) Counter { return NewMemory() })
}

func TestMemorySweepsIdleCounters(t *testing.T) {
	m := NewMemory()
	w := Sliding(time.Second, 10)
	for i := range 1000 {
		take(t, m, at(0), item(string(rune('a'+i%26))+string(rune(i)), 5, w))
	}
	if n := m.Len(); n != 1000 {
		t.Fatalf("Len = %d, want 1000", n)
	}
	// Touch every shard well after the window: each sweeps on use.
	later := at(time.Hour)
	for i := range 5000 {
		take(t, m, later, item(string(rune(i))+"-late", 5, w))
	}
	if n := m.Len(); n != 5000 {
		t.Fatalf("after sweeping: Len = %d, want only the 5000 live counters", n)
	}
}

func TestMemoryClockSkew(t *testing.T) {
	m := NewMemory()
	it := item("skew", 2, Sliding(time.Second, 10))
	take(t, m, at(5*time.Second), it)
	// An earlier instant (another goroutine's older clock reading) counts
	// in the newest bucket instead of resurrecting old ones.
	if r := take(t, m, at(4*time.Second), it)[0]; r.Over || r.Count != 2 {
		t.Fatalf("skewed hit: %+v", r)
	}
	if r := take(t, m, at(5*time.Second), it)[0]; !r.Over {
		t.Fatalf("third hit: %+v, want over", r)
	}
}

// A sweep keeps counters whose hits still count.
func TestMemorySweepKeepsLiveCounters(t *testing.T) {
	m := NewMemory()
	it := item("live", 5, Sliding(time.Minute, 10))
	it.Hits = 5
	take(t, m, at(0), it)
	sweepAll := func(d time.Duration) {
		for i := range m.shards {
			s := &m.shards[i]
			s.mu.Lock()
			s.nextSweep = 0
			s.sweep(at(d).UnixNano())
			s.mu.Unlock()
		}
	}
	sweepAll(59 * time.Second)
	it.Hits = 1
	if r := take(t, m, at(59*time.Second), it)[0]; !r.Over {
		t.Fatalf("after a sweep within the window: %+v, want the 5 hits still counted", r)
	}
	sweepAll(2 * time.Minute) // the last bucket touched (at 59s) has left
	if n := m.Len(); n != 0 {
		t.Fatalf("Len = %d after the window, want 0", n)
	}
}

// A sweep that leaves a table a quarter full moves the live counters to
// fresh slabs: memory from a burst of counters is given back.
func TestMemoryCompactsAfterBurst(t *testing.T) {
	m := NewMemory()
	w := Sliding(time.Second, 10)
	for i := range 400_000 {
		take(t, m, at(0), item("burst-"+strconv.Itoa(i), 5, w))
	}
	later := at(time.Hour)
	for i := range 5000 {
		take(t, m, later, item("late-"+strconv.Itoa(i), 5, w))
	}
	if n := m.Len(); n != 5000 {
		t.Fatalf("Len = %d, want the 5000 live counters", n)
	}
	slots := 0
	for i := range m.shards {
		for _, tb := range m.shards[i].tables {
			slots += len(tb.chunks) * chunkSize
		}
	}
	if slots > 50_000 {
		t.Fatalf("%d counter slots kept for 5000 live counters after the burst left", slots)
	}
	// The counts survived the move.
	for i := range 5000 {
		r := take(t, m, later, item("late-"+strconv.Itoa(i), 5, w))[0]
		if r.Over || r.Count != 2 {
			t.Fatalf("late-%d after compaction: %+v, want count 2", i, r)
		}
	}
}
