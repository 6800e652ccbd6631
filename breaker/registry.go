package breaker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/matchexpr"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Registry holds the breakers of every instance, keyed by plug-in and, for
// the basic scope, by (API, environment). Add feeds them (from the
// access-log stream, through breaker/alsink) and Decide answers ext_authz.
// Breaker states survive configuration changes as long as the plug-in's
// content is unchanged.
type Registry struct {
	feed *live.Feed
	now  func() time.Time
	log  *slog.Logger
	reg  prometheus.Registerer

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

// WithRegisterer registers the registry's metrics (a registration that
// fails is logged; the breakers work without their metrics).
func WithRegisterer(reg prometheus.Registerer) Option { return func(r *Registry) { r.reg = reg } }

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
	if r.reg != nil {
		for _, c := range []prometheus.Collector{r.recorded, r.transitions} {
			if err := r.reg.Register(c); err != nil {
				r.log.Warn("breaker metrics not registered", "err", err)
			}
		}
	}
	return r
}

// machineKey names one breaker plug-in's breakers: the plug-in, and
// (API, environment) for the basic scope (empty for share).
type machineKey struct {
	inst, plugin, api, env string
}

// entry is the breakers of a plug-in (for one API and environment, or
// shared) and the content they were built from.
type entry struct {
	content string
	def     target // requests that match no rule
	rules   []rule
}

// target is one breaker and its downgrade (nil: 503): policy is the
// policy backend of an http, http_vpc or func downgrade
// (model.BreakerPolicyName of the rule that defines it: a rule without
// downgrade_backend uses downgrade_default's), passthrough the headers of
// a passthrough downgrade.
type target struct {
	m           *Machine
	downgrade   *apigwv1.PluginBreakerDowngradeInfo
	policy      string
	passthrough []*apigwv1.MockHeader
}

// newTarget is a breaker with its downgrade, defined by rule ("" for
// downgrade_default).
func newTarget(m *Machine, dg *apigwv1.PluginBreakerDowngradeInfo, rule string) (target, error) {
	t := target{m: m, downgrade: dg}
	switch model.DowngradeKind(dg) {
	case model.DowngradeHTTP, model.DowngradeHTTPVPC, model.DowngradeFunc:
		t.policy = model.BreakerPolicyName(rule)
	case model.DowngradePassthrough:
		hs, err := model.BreakerPassthroughHeaders(dg)
		if err != nil {
			return t, err
		}
		t.passthrough = hs
		if t.passthrough == nil {
			t.passthrough = []*apigwv1.MockHeader{}
		}
	}
	return t, nil
}

// rule is a downgrade rule: its expression, the parameters it names and
// its own breaker.
type rule struct {
	name   string
	expr   *matchexpr.Expr
	params map[string]*apigwv1.PluginCommonParameter
	target
}

// Request gives a downgrade rule the values of the request being checked
// (ext_authz implements it): typ is a parameter type (header, query,
// path, method, system) and value the parameter's source name.
type Request interface {
	Value(typ, value string) (string, bool)
}

// ruleParams are a rule's parameters over a request (matchexpr.Params).
type ruleParams struct {
	defs map[string]*apigwv1.PluginCommonParameter
	req  Request
}

func (p *ruleParams) Param(name string) (string, bool) {
	d := p.defs[name]
	if d == nil || p.req == nil {
		return "", false
	}
	return p.req.Value(strings.ToLower(d.Type), d.Value)
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
	// Rule is the downgrade rule the request matched ("" for none):
	// ext_authz passes it to the access log, which counts the call for
	// that rule's breaker.
	Rule string
	// Open: the breaker is open (or half-open with its probe in flight)
	// and the request gets the downgrade.
	Open bool
	// Mock is the mock downgrade's answer; Policy the policy backend of
	// an http, http_vpc or func downgrade (model.BreakerPolicyName);
	// Passthrough (non-nil) the headers a passthrough downgrade adds to
	// the request it lets through to the API's backend; none: 503 (the
	// gateway response DEFAULT_5XX).
	Mock        *apigwv1.PluginBreakerMockInfo
	Policy      string
	Passthrough []*apigwv1.MockHeader
}

// Decide returns the decision for a request of (API, environment) of an
// instance in a snapshot: the first downgrade rule that matches req (or
// the default breaker), and whether its breaker is open.
func (r *Registry) Decide(snap *live.Snapshot, inst, apiID, envID string, req Request) Decision {
	e := r.lookup(snap, relKey{inst, apiID, envID})
	if e == nil {
		return Decision{}
	}
	var d Decision
	t := &e.def
	if len(e.rules) > 0 {
		p := &ruleParams{req: req}
		for i := range e.rules {
			p.defs = e.rules[i].params
			if e.rules[i].expr.Eval(p) {
				t, d.Rule = &e.rules[i].target, e.rules[i].name
				break
			}
		}
	}
	if t.m.Allow(r.now()) {
		return d
	}
	d.Open = true
	if model.DowngradeKind(t.downgrade) == model.DowngradeMock {
		d.Mock = t.downgrade.GetMockInfo()
	}
	d.Policy, d.Passthrough = t.policy, t.passthrough
	return d
}

// State returns the state of the breaker of (API, environment) for a
// downgrade rule ("" for the default one), and whether there is one.
func (r *Registry) State(inst, apiID, envID string, ruleName ...string) (State, bool) {
	e := r.lookup(r.feed.Current(), relKey{inst, apiID, envID})
	if e == nil {
		return Closed, false
	}
	name := ""
	if len(ruleName) > 0 {
		name = ruleName[0]
	}
	t := e.target(name)
	if t == nil {
		return Closed, false
	}
	return t.m.State(r.now()), true
}

// target returns the breaker of a rule ("" the default; nil for an
// unknown rule).
func (e *entry) target(name string) *target {
	if name == "" {
		return &e.def
	}
	for i := range e.rules {
		if e.rules[i].name == name {
			return &e.rules[i].target
		}
	}
	return nil
}

// Add feeds the result of a call to the breaker of its API and downgrade
// rule.
func (r *Registry) Add(c *Call) {
	if c.API == "" || !c.backendCall() {
		return
	}
	e := r.lookup(r.feed.Current(), relKey{c.Instance, c.API, c.Env})
	if e == nil {
		return
	}
	t := e.target(c.Rule)
	if t == nil {
		// A rule of an older content of the plug-in.
		return
	}
	t.m.Record(r.now(), t.m.cfg.Unhealthy(c))
	r.recorded.Inc()
}

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
	log := r.log.With("instance", k.inst, "plugin", p.PluginName, "api_id", mk.api, "env_id", mk.env)
	e, err := r.build(v, log)
	if err != nil {
		r.log.Error("breaker plug-in does not compile; requests pass", "plugin", p.PluginName, "err", err)
		return nil
	}
	e.content = p.PluginContent
	r.machines[mk] = e
	return e
}

// build compiles a breaker content: the default breaker and one per
// downgrade rule (with the rule's condition and downgrade, else the
// plug-in's).
func (r *Registry) build(v *apigwv1.BreakerContent, log *slog.Logger) (*entry, error) {
	def, err := Compile(v.GetBreakerCondition())
	if err != nil {
		return nil, err
	}
	machine := func(cfg *Config, rule string) *Machine {
		l := log
		if rule != "" {
			l = log.With("rule", rule)
		}
		return NewMachine(cfg, func(from, to State) {
			r.transitions.WithLabelValues(to.String()).Inc()
			l.LogAttrs(context.Background(), slog.LevelInfo, "breaker state changed", slog.String("from", from.String()), slog.String("to", to.String()))
		})
	}
	dt, err := newTarget(machine(def, ""), v.GetDowngradeDefault(), "")
	if err != nil {
		return nil, fmt.Errorf("downgrade_default: %w", err)
	}
	e := &entry{def: dt}
	for _, dr := range v.GetDowngradeRules() {
		expr, err := matchexpr.Parse(dr.GetMatchRegex())
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", dr.GetRuleName(), err)
		}
		params, err := model.BreakerRuleParams(v, dr)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", dr.GetRuleName(), err)
		}
		cfg := def
		if dr.GetBreakerCondition() != nil {
			if cfg, err = Compile(dr.GetBreakerCondition()); err != nil {
				return nil, fmt.Errorf("rule %s: %w", dr.GetRuleName(), err)
			}
		}
		dg, owner := v.GetDowngradeDefault(), ""
		if dr.GetDowngradeBackend() != nil {
			dg, owner = dr.GetDowngradeBackend(), dr.GetRuleName()
		}
		t, err := newTarget(machine(cfg, dr.GetRuleName()), dg, owner)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", dr.GetRuleName(), err)
		}
		e.rules = append(e.rules, rule{name: dr.GetRuleName(), expr: expr, params: params, target: t})
	}
	return e, nil
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
