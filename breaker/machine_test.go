package breaker_test

import (
	"testing"
	"time"

	"github.com/apigw/apigw/breaker"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type transition struct{ from, to breaker.State }

func newMachine(cfg *breaker.Config) (*breaker.Machine, *[]transition) {
	var log []transition
	return breaker.NewMachine(cfg, func(from, to breaker.State) { log = append(log, transition{from, to}) }), &log
}

func wantState(t *testing.T, m *breaker.Machine, now time.Time, want breaker.State) {
	t.Helper()
	if got := m.State(now); got != want {
		t.Fatalf("state at +%v = %v, want %v", now.Sub(t0), got, want)
	}
}

// Counter mode: the breaker opens on the call that reaches the threshold
// within the window, stays open for open_breaker_time, is half-open after
// it, and the first result then closes or reopens it.
func TestCounterMode(t *testing.T) {
	cfg := &breaker.Config{Timeout: true, Threshold: 3, Window: 10 * time.Second, OpenFor: 15 * time.Second}
	m, log := newMachine(cfg)
	m.Record(t0, true)
	m.Record(t0.Add(time.Second), false)
	m.Record(t0.Add(2*time.Second), true)
	wantState(t, m, t0.Add(2*time.Second), breaker.Closed)
	m.Record(t0.Add(3*time.Second), true) // third unhealthy call in the window
	wantState(t, m, t0.Add(3*time.Second), breaker.Open)
	// Late results of calls sent before it opened change nothing.
	m.Record(t0.Add(4*time.Second), false)
	wantState(t, m, t0.Add(18*time.Second-time.Nanosecond), breaker.Open)
	wantState(t, m, t0.Add(18*time.Second), breaker.HalfOpen)
	// Half-open: an unhealthy result reopens it for the whole open time.
	m.Record(t0.Add(19*time.Second), true)
	wantState(t, m, t0.Add(19*time.Second), breaker.Open)
	wantState(t, m, t0.Add(34*time.Second), breaker.HalfOpen)
	// A healthy result closes it with a fresh window.
	m.Record(t0.Add(35*time.Second), false)
	wantState(t, m, t0.Add(35*time.Second), breaker.Closed)
	m.Record(t0.Add(36*time.Second), true)
	m.Record(t0.Add(37*time.Second), true)
	wantState(t, m, t0.Add(37*time.Second), breaker.Closed)
	want := []transition{{breaker.Closed, breaker.Open}, {breaker.Open, breaker.HalfOpen}, {breaker.HalfOpen, breaker.Open},
		{breaker.Open, breaker.HalfOpen}, {breaker.HalfOpen, breaker.Closed}}
	if len(*log) != len(want) {
		t.Fatalf("transitions %v, want %v", *log, want)
	}
	for i := range want {
		if (*log)[i] != want[i] {
			t.Fatalf("transitions %v, want %v", *log, want)
		}
	}
}

// Counter mode: unhealthy calls of an expired window do not count.
func TestCounterWindowExpires(t *testing.T) {
	m, _ := newMachine(&breaker.Config{Timeout: true, Threshold: 2, Window: 10 * time.Second, OpenFor: time.Second})
	m.Record(t0, true)
	m.Record(t0.Add(10*time.Second), true) // a new window: the first call is forgotten
	wantState(t, m, t0.Add(10*time.Second), breaker.Closed)
	m.Record(t0.Add(19*time.Second), true)
	wantState(t, m, t0.Add(19*time.Second), breaker.Open)
}

// Percentage mode: decided when the window ends, only with enough calls.
func TestPercentageMode(t *testing.T) {
	cfg := &breaker.Config{Percentage: true, MinCalls: 4, Percent: 50, Window: 10 * time.Second, OpenFor: 5 * time.Second}
	m, _ := newMachine(cfg)
	// 3 calls, all unhealthy: not enough calls.
	for i := 0; i < 3; i++ {
		m.Record(t0.Add(time.Duration(i)*time.Second), true)
	}
	wantState(t, m, t0.Add(9*time.Second), breaker.Closed)
	wantState(t, m, t0.Add(10*time.Second), breaker.Closed)

	// Next window: 4 calls, 2 unhealthy (50 %): stays closed until the
	// window ends, then opens.
	w := t0.Add(20 * time.Second)
	m.Record(w, true)
	m.Record(w.Add(time.Second), false)
	m.Record(w.Add(2*time.Second), true)
	m.Record(w.Add(3*time.Second), false)
	wantState(t, m, w.Add(10*time.Second-time.Nanosecond), breaker.Closed)
	wantState(t, m, w.Add(10*time.Second), breaker.Open)
	wantState(t, m, w.Add(15*time.Second), breaker.HalfOpen)
	m.Record(w.Add(16*time.Second), false)
	wantState(t, m, w.Add(16*time.Second), breaker.Closed)

	// 4 calls, 1 unhealthy (25 %): stays closed.
	w = w.Add(30 * time.Second)
	m.Record(w, true)
	for i := 1; i < 4; i++ {
		m.Record(w.Add(time.Duration(i)*time.Second), false)
	}
	wantState(t, m, w.Add(11*time.Second), breaker.Closed)
}

// The end of a percentage window is also decided by a call arriving after
// it (not only by a query).
func TestPercentageDecidedByNextCall(t *testing.T) {
	m, _ := newMachine(&breaker.Config{Percentage: true, MinCalls: 2, Percent: 100, Window: time.Second, OpenFor: time.Minute})
	m.Record(t0, true)
	m.Record(t0.Add(500*time.Millisecond), true)
	m.Record(t0.Add(2*time.Second), false) // ends the window: opens, and this late call is ignored
	wantState(t, m, t0.Add(2*time.Second), breaker.Open)
}

// Half-open: one probe request goes to the backend every ProbeEvery until
// a result arrives; the others get the downgrade.
func TestHalfOpenProbes(t *testing.T) {
	m, _ := newMachine(&breaker.Config{Timeout: true, Threshold: 1, Window: 10 * time.Second, OpenFor: 5 * time.Second})
	if !m.Allow(t0) {
		t.Fatal("a closed breaker refused a request")
	}
	m.Record(t0, true)
	if m.Allow(t0.Add(4 * time.Second)) {
		t.Fatal("an open breaker let a request through")
	}
	h := t0.Add(5 * time.Second)
	if !m.Allow(h) {
		t.Fatal("the half-open breaker let no probe through")
	}
	if m.Allow(h) || m.Allow(h.Add(breaker.ProbeEvery-time.Millisecond)) {
		t.Fatal("a second request went through while the probe's result was awaited")
	}
	if !m.Allow(h.Add(breaker.ProbeEvery)) {
		t.Fatal("no new probe after ProbeEvery without a result")
	}
	m.Record(h.Add(breaker.ProbeEvery+time.Second), false)
	for i := 0; i < 3; i++ {
		if !m.Allow(h.Add(3 * time.Second)) {
			t.Fatal("a closed breaker refused a request")
		}
	}
}
