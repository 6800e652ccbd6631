// Package breaker implements the breaker plug-in (docs/plugins.md#breaker):
// a state machine per breaker fed by the access-log entries of the
// instance's Envoys (accesslog.Sink), and the decision ext_authz asks for
// on each request of an API with a breaker bound: pass, or answer with the
// downgrade because the breaker is open. Package breaker/alsink connects
// it to the access-log service.
//
// No xDS push is involved in a state change: the access-log stream brings
// the results of the backend calls (Envoy flushes it every second), the
// machine changes state when an entry arrives (or, for the end of a
// window or of the open time, when it is next asked), and ext_authz, which
// already runs on every request of such an API, reads the state.
package breaker

import (
	"sync"
	"time"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/matchexpr"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// State is the state of a breaker.
type State uint8

// The states: closed (requests go to the backend and are counted), open
// (requests get the downgrade) and half-open (after the open time: one
// probe request goes to the backend every ProbeEvery, the others get the
// downgrade, and the first result decides).
const (
	Closed State = iota
	Open
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "closed"
}

// ProbeEvery is how often a half-open breaker lets a probe request
// through while no result has arrived: two access-log flush intervals,
// the time a probe's result takes to come back (a lost entry only delays
// the next probe).
const ProbeEvery = 2 * time.Second

// Config is a compiled breaker condition.
type Config struct {
	Timeout    bool            // breaker_type timeout: backend timeouts are unhealthy
	Cond       *matchexpr.Expr // breaker_type condition: the unhealthy_condition
	Percentage bool            // breaker_mode percentage (else counter)
	Threshold  int64           // counter: unhealthy calls that open the breaker
	MinCalls   int64           // percentage: calls a window needs
	Percent    int64           // percentage: unhealthy share (1-100) that opens it
	Window     time.Duration
	OpenFor    time.Duration
}

// Compile compiles a breaker condition (validated by the model).
func Compile(c *apigwv1.PluginBreakerCondition) (*Config, error) {
	cfg := &Config{
		Percentage: model.BreakerMode(c) == model.BreakerModePercentage,
		Threshold:  int64(c.GetUnhealthyThreshold()),
		MinCalls:   int64(c.GetMinCallThreshold()),
		Percent:    int64(c.GetUnhealthyPercentage()),
		Window:     time.Duration(c.GetTimeWindow()) * time.Second,
		OpenFor:    time.Duration(c.GetOpenBreakerTime()) * time.Second,
	}
	if c.GetBreakerType() == model.BreakerTypeCondition {
		e, err := model.ParseUnhealthyCondition(c.GetUnhealthyCondition())
		if err != nil {
			return nil, err
		}
		cfg.Cond = e
	} else {
		cfg.Timeout = true
	}
	return cfg, nil
}

// Machine is one breaker's state. Its methods are safe for concurrent
// use; time is always passed in (the registry's injected clock).
type Machine struct {
	cfg *Config

	mu        sync.Mutex
	state     State
	winStart  time.Time // start of the current window (zero: none yet)
	calls     int64     // backend calls in the window
	unhealthy int64     // unhealthy calls in the window
	openUntil time.Time
	probeAt   time.Time            // half-open: when the last probe was let through
	changed   func(from, to State) // called under mu on every transition
}

// NewMachine returns a closed breaker. changed (may be nil) is told every
// transition.
func NewMachine(cfg *Config, changed func(from, to State)) *Machine {
	return &Machine{cfg: cfg, changed: changed}
}

// State returns the state at now (an open breaker whose time is over is
// half-open; a percentage window that has ended is decided first).
func (m *Machine) State(now time.Time) State {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(now)
	return m.state
}

// Allow reports whether a request may go to the backend at now: the
// breaker is closed, or half-open and no probe was let through in the
// last ProbeEvery (this request is then the probe).
func (m *Machine) Allow(now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(now)
	switch m.state {
	case Closed:
		return true
	case HalfOpen:
		if m.probeAt.IsZero() || !now.Before(m.probeAt.Add(ProbeEvery)) {
			m.probeAt = now
			return true
		}
	}
	return false
}

// Record counts the result of one backend call that ended (reached apigw)
// at now.
func (m *Machine) Record(now time.Time, unhealthy bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(now)
	switch m.state {
	case Open:
		// A call sent before the breaker opened, reported late.
		return
	case HalfOpen:
		if unhealthy {
			m.open(now)
		} else {
			m.set(Closed)
			m.winStart, m.calls, m.unhealthy = now, 0, 0
		}
		return
	}
	if m.winStart.IsZero() {
		m.winStart = now
	}
	m.calls++
	if unhealthy {
		m.unhealthy++
	}
	if !m.cfg.Percentage && m.unhealthy >= m.cfg.Threshold {
		m.open(now)
	}
}

// advance applies what time alone changes: the end of the open time and
// the end of a window (which decides a percentage breaker).
func (m *Machine) advance(now time.Time) {
	switch m.state {
	case Open:
		if !now.Before(m.openUntil) {
			m.set(HalfOpen)
			m.probeAt = time.Time{}
		}
	case Closed:
		if m.winStart.IsZero() || now.Before(m.winStart.Add(m.cfg.Window)) {
			return
		}
		if m.cfg.Percentage && m.calls >= m.cfg.MinCalls && m.unhealthy*100 >= m.cfg.Percent*m.calls {
			m.open(now)
			return
		}
		// A new window starts with the next call.
		m.winStart, m.calls, m.unhealthy = time.Time{}, 0, 0
	}
}

func (m *Machine) open(now time.Time) {
	m.set(Open)
	m.openUntil = now.Add(m.cfg.OpenFor)
	m.winStart, m.calls, m.unhealthy = time.Time{}, 0, 0
}

func (m *Machine) set(s State) {
	if s == m.state {
		return
	}
	from := m.state
	m.state = s
	if m.changed != nil {
		m.changed(from, s)
	}
}
