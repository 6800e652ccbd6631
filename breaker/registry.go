package breaker

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Registry holds the breakers of every instance, keyed by plug-in and, for
// the basic scope, by (API, environment). It is the access-log sink that
// feeds them and answers ext_authz's Decide. Breaker states survive
// configuration changes as long as the plug-in's content is unchanged.
type Registry struct {
	feed *live.Feed
	now  func() time.Time
	log  *slog.Logger

	idx atomic.Pointer[index]

	mu       sync.Mutex
	machines map[machineKey]*entry

	recorded    prometheus.Counter
	transitions *prometheus.CounterVec
}

// Option configures a Registry.
type Option func(*Registry)

// WithClock sets the clock of windows and open times (default time.Now).
func WithClock(now func() time.Time) Option { return func(r *Registry) { r.now = now } }

// WithRegisterer registers the registry's metrics.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(r *Registry) {
		if reg != nil {
			reg.MustRegister(r.recorded, r.transitions)
		}
	}
}

// New returns a registry reading the breaker plug-ins from feed.
func New(feed *live.Feed, log *slog.Logger, opts ...Option) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{
		feed: feed, now: time.Now, log: log.With("component", "breaker"), machines: map[machineKey]*entry{},
		recorded: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "apigw", Subsystem: "breaker", Name: "calls_total",
			Help: "Backend calls of APIs with a breaker plug-in counted by their breakers."}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "apigw", Subsystem: "breaker", Name: "transitions_total",
			Help: "Breaker state changes, by the state entered (open, half-open, closed)."}, []string{"state"}),
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// machineKey names one breaker: the plug-in, and (API, environment) for
// the basic scope (empty for share).
type machineKey struct {
	inst, plugin, api, env string
}

// entry is a breaker and the content it was built from.
type entry struct {
	content  string
	m        *Machine
	downgrad *apigwv1.PluginBreakerDowngradeInfo
}

// index maps (instance, API, environment) to its breaker for one snapshot.
type index struct {
	snap *live.Snapshot
	mu   sync.RWMutex
	m    map[relKey]*entry // nil value: no breaker bound
}

type relKey struct{ inst, api, env string }

// Decision is what ext_authz does with a request.
type Decision struct {
	// Open: the breaker is open and the request gets the downgrade.
	Open bool
	// Mock is the mock downgrade's answer; nil: 503 (the gateway
	// response DEFAULT_5XX).
	Mock *apigwv1.PluginBreakerMockInfo
}

// Decide returns the decision for a request of (API, environment) of an
// instance in a snapshot.
func (r *Registry) Decide(snap *live.Snapshot, inst, apiID, envID string) Decision {
	e := r.lookup(snap, relKey{inst, apiID, envID})
	if e == nil || e.m.State(r.now()) != Open {
		return Decision{}
	}
	d := Decision{Open: true}
	if dg := e.downgrad; dg != nil && dg.GetType() == model.DowngradeMock {
		d.Mock = dg.GetMockInfo()
	}
	return d
}

// State returns the state of the breaker of (API, environment), and
// whether one is bound.
func (r *Registry) State(inst, apiID, envID string) (State, bool) {
	e := r.lookup(r.feed.Current(), relKey{inst, apiID, envID})
	if e == nil {
		return Closed, false
	}
	return e.m.State(r.now()), true
}

// Add feeds an access-log record to the breaker of its API (accesslog.Sink).
func (r *Registry) Add(rec *accesslog.Record) {
	if rec.API == "" || !backendCall(rec) {
		return
	}
	e := r.lookup(r.feed.Current(), relKey{rec.Instance, rec.API, rec.Env})
	if e == nil {
		return
	}
	e.m.Record(r.now(), e.m.cfg.Unhealthy(rec))
	r.recorded.Inc()
}

var _ accesslog.Sink = (*Registry)(nil)

func (r *Registry) lookup(snap *live.Snapshot, k relKey) *entry {
	if snap == nil {
		return nil
	}
	ix := r.index(snap)
	ix.mu.RLock()
	e, ok := ix.m[k]
	ix.mu.RUnlock()
	if ok {
		return e
	}
	e = r.resolve(snap, k)
	ix.mu.Lock()
	ix.m[k] = e
	ix.mu.Unlock()
	return e
}

func (r *Registry) index(snap *live.Snapshot) *index {
	for {
		cur := r.idx.Load()
		if cur != nil && cur.snap == snap {
			return cur
		}
		next := &index{snap: snap, m: map[relKey]*entry{}}
		if r.idx.CompareAndSwap(cur, next) {
			return next
		}
	}
}

// resolve finds the breaker plug-in bound to (API, environment) and the
// machine that counts for it, creating (or, when the content changed,
// replacing) it.
func (r *Registry) resolve(snap *live.Snapshot, k relKey) *entry {
	in := snap.Instance(k.inst)
	if in == nil {
		return nil
	}
	p := in.PluginOf(k.api, k.env, model.PluginBreaker)
	if p == nil {
		return nil
	}
	v := model.BreakerContentOf(p)
	if v == nil {
		return nil
	}
	mk := machineKey{inst: k.inst, plugin: p.Id}
	if model.BreakerScope(v) == model.BreakerScopeBasic {
		mk.api, mk.env = k.api, k.env
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.machines[mk]; e != nil && e.content == p.PluginContent {
		return e
	}
	cfg, err := Compile(v.GetBreakerCondition())
	if err != nil {
		r.log.Error("breaker plug-in does not compile; requests pass", "plugin", p.PluginName, "err", err)
		return nil
	}
	log := r.log.With("instance", k.inst, "plugin", p.PluginName, "api_id", mk.api, "env_id", mk.env)
	e := &entry{content: p.PluginContent, downgrad: v.GetDowngradeDefault()}
	e.m = NewMachine(cfg, func(from, to State) {
		r.transitions.WithLabelValues(to.String()).Inc()
		log.LogAttrs(context.Background(), slog.LevelInfo, "breaker state changed", slog.String("from", from.String()), slog.String("to", to.String()))
	})
	r.machines[mk] = e
	return e
}

// Forget drops the breakers whose plug-in is no longer bound anywhere in
// the current snapshot (called periodically by Run).
func (r *Registry) Forget() {
	snap := r.feed.Current()
	if snap == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.machines {
		in := snap.Instance(k.inst)
		if in == nil || in.ReferrerIDs(model.KindPlugin, k.plugin, model.KindPluginBinding) == nil {
			delete(r.machines, k)
		}
	}
}

// Run forgets unbound breakers every minute until ctx ends.
func (r *Registry) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			r.Forget()
		}
	}
}
