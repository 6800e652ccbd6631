// Package quota resolves which limit applies to a rate-limit descriptor,
// from an instance's definitions alone (pure: no I/O, no clock):
//
//   - a throttling policy bound to (API, environment) limits the api,
//     user, app and ip dimensions per time_interval x time_unit; an
//     exclusive policy counts each API apart, a shared one counts all the
//     APIs bound to it together (docs/apig-semantics.md#throttling);
//   - a special quota for an app or a tenant replaces the policy's app or
//     user limit for that subject; the API limit still applies;
//   - an API without a policy gets the instance default on the api
//     dimension (ratelimit.api_limits per second,
//     docs/apig-semantics.md#instance-parameters);
//   - an app bound to a credential quota is limited across all APIs, in
//     windows aligned to the quota's reset time
//     (docs/apig-semantics.md#credential-quotas);
//   - an API held closed (a policy it needs is missing or unreadable, see
//     model.Instance.Blocked), or an app whose credential quota is, gets
//     a limit that admits nothing (fail closed).
//
// Counter keys never contain the limit, so editing a limit keeps the
// running counts; they change when what is counted changes (the policy's
// scope, the window, the quota bound to the app).
package quota

import (
	"sync"
	"time"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Limit is the limit that applies to one descriptor.
type Limit struct {
	// Dim is the descriptor's dimension.
	Dim string
	// Name names the definition the limit comes from (policy or quota
	// name); Default marks the instance default.
	Name    string
	Default bool
	// Special is set when a special app or tenant quota replaced the
	// policy's limit.
	Special bool
	// Requests is the number of calls admitted per period.
	Requests uint64
	// Interval and Unit are the period as configured (10, "MINUTE").
	Interval int32
	Unit     string
	// Period is Interval x Unit.
	Period time.Duration
	// Aligned says the periods are fixed windows starting at Offset (mod
	// Period) after the Unix epoch (credential quotas); otherwise the
	// limit holds over any span of Period (throttling).
	Aligned bool
	Offset  time.Duration
	// Key identifies the counter. Its first {...} groups the counters a
	// request can touch together (Redis Cluster hash tag): the api, user,
	// app and ip counters of one policy scope share it.
	Key string
	// Error is the APIG error for a call over this limit.
	Error gwresp.Error
}

// DefaultName is Limit.Name for the instance default.
const DefaultName = "instance-default"

// UnavailableName is Limit.Name of the limit that refuses every call of
// an API held closed (model.Instance.Blocked) or of an app whose
// credential quota is missing or cannot be read.
const UnavailableName = "policy-unavailable"

// unavailable is a limit that admits nothing: a throttling policy or
// credential quota that is configured but cannot be read must not be
// replaced by no limit (or the instance default).
func unavailable(dim string) Limit {
	return Limit{
		Dim: dim, Name: UnavailableName, Requests: 0, Interval: 1, Unit: model.UnitSecond, Period: time.Second,
		Aligned: true, Error: gwresp.ErrPolicyUnavailable,
	}
}

// Resolve returns the limit for a descriptor, or false when none applies:
// unknown instance, API not served in the environment, a dimension the
// policy does not limit, or a descriptor without its subject.
func Resolve(in *model.Instance, d dataplane.RateLimitDescriptor) (Limit, bool) {
	s := NewScope(in, d.API, d.Env)
	return s.Resolve(&d)
}

// Scope is what the limits of one (API, environment) depend on; a
// request's descriptors usually share one, so it is looked up once.
type Scope struct {
	in       *model.Instance
	API, Env string
	served   bool
	blocked  bool         // model.Instance.Blocked: every limit refuses
	api      *apigwv1.Api // as published in Env
	throttle *apigwv1.Throttle
	// rl is the rate_limit plug-in bound to (API, environment); it
	// replaces throttle.
	rl *model.RateLimit
}

// NewScope looks up the policy bound to (api, env) in an instance.
func NewScope(in *model.Instance, api, env string) Scope {
	return NewScopeCached(in, api, env, nil)
}

// NewScopeCached is NewScope with the rate_limit plug-ins prepared once
// in cache (nil: prepared on every call).
func NewScopeCached(in *model.Instance, api, env string, cache *RateLimits) Scope {
	s := Scope{in: in, API: api, Env: env}
	if in == nil {
		return s
	}
	pub := in.Served(api, env)
	if pub == nil {
		return s
	}
	s.served, s.api, s.blocked = true, pub.GetApi(), in.Blocked(api, env) != ""
	if p := in.PluginOf(api, env, model.PluginRateLimit); p != nil {
		rl, err := cache.get(p)
		if err != nil {
			s.blocked = true // a plug-in that cannot be used is not replaced by no limit
		}
		s.rl = rl
		return s
	}
	s.throttle = in.ThrottleFor(api, env)
	return s
}

// RateLimits caches prepared rate_limit plug-ins by plug-in object (the
// objects of a snapshot never change). The zero value is ready.
type RateLimits struct{ m sync.Map }

type rateLimitEntry struct {
	rl  *model.RateLimit
	err error
}

func (c *RateLimits) get(p *apigwv1.Plugin) (*model.RateLimit, error) {
	if c == nil {
		return model.CompileRateLimit(p)
	}
	if e, ok := c.m.Load(p); ok {
		return e.(rateLimitEntry).rl, e.(rateLimitEntry).err
	}
	rl, err := model.CompileRateLimit(p)
	c.m.Store(p, rateLimitEntry{rl, err})
	return rl, err
}

// Instance returns the scope's instance.
func (s *Scope) Instance() *model.Instance { return s.in }

// Published returns the API as published in the scope's environment (nil
// if it is not served there).
func (s *Scope) Published() *apigwv1.Api { return s.api }

// Resolve returns the limit for a descriptor of the scope's instance,
// API and environment (see the package's Resolve).
func (s *Scope) Resolve(d *dataplane.RateLimitDescriptor) (Limit, bool) {
	l, key, ok := s.ResolveAppend(d, nil)
	l.Key = string(key)
	return l, ok
}

// ResolveAppend is Resolve without allocating: it leaves the limit's Key
// empty and appends the key to key instead.
func (s *Scope) ResolveAppend(d *dataplane.RateLimitDescriptor, key []byte) (Limit, []byte, bool) {
	if s.in == nil {
		return Limit{}, key, false
	}
	switch d.Dim {
	case dataplane.RateLimitDimAPI, dataplane.RateLimitDimUser, dataplane.RateLimitDimApp, dataplane.RateLimitDimIP, dataplane.RateLimitDimRule:
		if s.rl != nil && !s.blocked {
			return s.pluginLimit(d, key)
		}
		if d.Dim == dataplane.RateLimitDimRule && !s.blocked {
			return Limit{}, key, false
		}
		return s.throttleLimit(d, key)
	case dataplane.RateLimitDimAppQuota:
		return appQuota(s.in, d, key)
	case dataplane.RateLimitDimDebugDomain:
		return s.debugDomain(key)
	}
	return Limit{}, key, false
}

// appendPrefix appends the hash tag of the scope's throttling counters:
// {<instance>/<env>/api:<api id>} or, for a shared policy,
// {<instance>/<env>/shared:<policy id>}.
func (s *Scope) appendPrefix(b []byte) []byte {
	b = append(append(append(append(b, '{'), s.in.Name...), '/'), s.Env...)
	switch {
	case s.rl != nil && s.rl.Shared:
		b = append(append(b, "/plugin:"...), s.rl.PluginID...)
	case s.throttle != nil && s.throttle.Type == model.ThrottleShared:
		b = append(append(b, "/shared:"...), s.throttle.Id...)
	default:
		b = append(append(b, "/api:"...), s.API...)
	}
	return append(b, '}')
}

func (s *Scope) throttleLimit(d *dataplane.RateLimitDescriptor, key []byte) (Limit, []byte, bool) {
	if !s.served || (d.Dim != dataplane.RateLimitDimAPI && d.Subject == "") {
		return Limit{}, key, false
	}
	if s.blocked {
		return unavailable(d.Dim), append(s.appendPrefix(key), "unavailable"...), true
	}
	t := s.throttle
	if t == nil {
		if d.Dim != dataplane.RateLimitDimAPI {
			return Limit{}, key, false
		}
		return instanceDefault(s.in), append(s.appendPrefix(key), "default"...), true
	}
	n, special := callLimit(t, d)
	if n <= 0 {
		return Limit{}, key, false
	}
	l := Limit{
		Dim: d.Dim, Name: t.Name, Special: special, Requests: uint64(n),
		Interval: max(t.TimeInterval, 1), Unit: unitOrMinute(t.TimeUnit),
		Error: gwresp.ErrThrottled,
	}
	l.Period = period(l.Interval, l.Unit)
	key = append(s.appendPrefix(key), d.Dim...)
	if d.Dim != dataplane.RateLimitDimAPI {
		key = append(append(key, '/'), d.Subject...)
	}
	return l, key, true
}

// callLimit returns the policy's limit for the descriptor's dimension
// and whether a special quota supplied it.
func callLimit(t *apigwv1.Throttle, d *dataplane.RateLimitDescriptor) (int32, bool) {
	switch d.Dim {
	case dataplane.RateLimitDimAPI:
		return t.ApiCallLimits, false
	case dataplane.RateLimitDimUser:
		if n, ok := special(t, model.SpecialUser, d.Subject); ok {
			return n, true
		}
		return t.UserCallLimits, false
	case dataplane.RateLimitDimApp:
		if n, ok := special(t, model.SpecialApp, d.Subject); ok {
			return n, true
		}
		return t.AppCallLimits, false
	case dataplane.RateLimitDimIP:
		return t.IpCallLimits, false
	}
	return 0, false
}

func special(t *apigwv1.Throttle, typ, id string) (int32, bool) {
	for _, s := range t.Specials {
		if s.ObjectId == id && s.ObjectType == typ {
			return s.CallLimits, true
		}
	}
	return 0, false
}

func instanceDefault(in *model.Instance) Limit {
	n := in.Config.GetRatelimit().GetApiLimits()
	if n <= 0 {
		n = model.DefaultAPILimits
	}
	return Limit{
		Dim: dataplane.RateLimitDimAPI, Name: DefaultName, Default: true, Requests: uint64(n),
		Interval: 1, Unit: model.UnitSecond, Period: time.Second,
		Error: gwresp.ErrThrottled,
	}
}

func appQuota(in *model.Instance, d *dataplane.RateLimitDescriptor, key []byte) (Limit, []byte, bool) {
	app := in.App(d.Subject)
	if app == nil || app.AppQuotaId == "" {
		return Limit{}, key, false
	}
	q := in.AppQuota(app.AppQuotaId)
	if q == nil {
		return unavailable(d.Dim), append(append(append(append(append(key, '{'), in.Name...), "/quota/"...), app.Id...), "}unavailable"...), true
	}
	if q.CallLimits <= 0 {
		return Limit{}, key, false
	}
	l := Limit{
		Dim: d.Dim, Name: q.Name, Requests: uint64(q.CallLimits),
		Interval: max(q.TimeInterval, 1), Unit: unitOrMinute(q.TimeUnit),
		Aligned: true, Error: gwresp.ErrAppQuota,
	}
	l.Period = period(l.Interval, l.Unit)
	l.Offset = resetOffset(q, l.Period)
	key = append(append(append(append(append(append(key, '{'), in.Name...), "/quota/"...), app.Id...), '}'), q.Id...)
	return l, key, true
}

// resetOffset aligns a quota's windows to its reset time: windows start
// at reset_time + k*period. Without a reset time they start at the
// quota's creation (APIG starts them at the first call; a counter shared
// by replicas needs a start every replica agrees on), else at the epoch.
func resetOffset(q *apigwv1.AppQuota, p time.Duration) time.Duration {
	var origin time.Time
	if t, err := time.Parse(model.ResetTimeLayout, q.ResetTime); err == nil {
		origin = t
	} else if ct := q.GetMeta().GetCreateTime(); ct != nil {
		origin = ct.AsTime()
	}
	if origin.IsZero() || p <= 0 {
		return 0
	}
	off := time.Duration(origin.UnixNano() % int64(p))
	if off < 0 {
		off += p
	}
	return off
}

func unitOrMinute(u string) string {
	if model.UnitSeconds(u) == 0 {
		return model.UnitMinute
	}
	return u
}

func period(interval int32, unit string) time.Duration {
	return time.Duration(interval) * time.Duration(model.UnitSeconds(unit)) * time.Second
}

// DebugDomainName is Limit.Name of the debug sub-domain's daily limit.
const DebugDomainName = "debug-domain"

// debugDomain is the daily limit of the calls through the debug
// sub-domain of the API's group (model.DebugDomainDailyCalls per UTC day),
// unless the group switched it off (sl_domain_quota_enabled false). The
// counter is the group's: {<instance>/debug-domain:<group id>}.
func (s *Scope) debugDomain(key []byte) (Limit, []byte, bool) {
	if !s.served {
		return Limit{}, key, false
	}
	g := s.in.Group(s.api.GroupId)
	if g == nil || (g.SlDomainQuotaEnabled != nil && !g.GetSlDomainQuotaEnabled()) {
		return Limit{}, key, false
	}
	key = append(append(append(append(key, '{'), s.in.Name...), "/debug-domain:"...), g.Id...)
	return Limit{
		Dim: dataplane.RateLimitDimDebugDomain, Name: DebugDomainName, Requests: model.DebugDomainDailyCalls,
		Interval: 1, Unit: model.UnitDay, Period: 24 * time.Hour, Aligned: true, Error: gwresp.ErrThrottled,
	}, append(key, '}'), true
}
