package model

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apigw/apigw/model/matchexpr"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Request Throttling 2.0 (the rate_limit plug-in, docs/plugins.md#rate_limit).

// Scopes of a rate_limit plug-in.
const (
	RateLimitScopeBasic = "basic"
	RateLimitScopeShare = "share"
)

// Algorithms of a rate_limit plug-in apigw accepts; both are counted
// exactly by the rate-limit service. "local" (per-node counting) is
// refused.
const (
	RateLimitAlgorithmCounter = "counter"
	RateLimitAlgorithmHAHT    = "haht"
)

// Parameter types of a rate_limit plug-in (those of every plug-in with
// parameters and rules).
const (
	RateLimitParamHeader = PluginParamHeader
	RateLimitParamQuery  = PluginParamQuery
	RateLimitParamPath   = PluginParamPath
	RateLimitParamMethod = PluginParamMethod
	RateLimitParamSystem = PluginParamSystem
)

// Special types of a rate_limit plug-in.
const (
	RateLimitSpecialApp  = "app"
	RateLimitSpecialUser = "user"
)

// MaxRateLimitRules is how many rules one rate_limit plug-in has.
const MaxRateLimitRules = 100

// MaxRateLimitParams is how many parameters one rate_limit plug-in
// defines.
const MaxRateLimitParams = MaxPluginParams

// RateLimitSystemParams returns the system parameters a rate_limit
// parameter may read, in a new slice.
func RateLimitSystemParams() []string { return PluginSystemParams() }

var (
	reRuleName       = runeRange(`^[\p{L}\p{N}][\p{L}\p{N}_\-]*$`, 1, 64)
	rateLimitUnits   = []string{"second", "minute", "hour", "day"}
	rateLimitUnitMap = map[string]string{"second": UnitSecond, "minute": UnitMinute, "hour": UnitHour, "day": UnitDay}
)

// RateLimit is a rate_limit plug-in prepared for the data plane: limits
// with -1 and 0 folded to 0 (not limited), units in the model's spelling
// (UnitSecond, ...), expressions compiled.
type RateLimit struct {
	// PluginID and Name identify the plug-in.
	PluginID, Name string
	// Shared: all APIs bound to the plug-in in an environment share the
	// counters (scope share).
	Shared bool
	// Interval and Unit are the default period.
	Interval int32
	Unit     string
	// API, User, App and IP are the limits per period; 0 = not limited.
	API, User, App, IP int32
	// AppSpecials and UserSpecials replace App and User for the apps and
	// accounts they name.
	AppSpecials, UserSpecials map[string]int32
	Params                    []PluginParam
	Rules                     []RateLimitRule
}

// RateLimitRule is a rule: a compiled expression and its limit.
type RateLimitRule struct {
	Name     string
	Expr     *matchexpr.Expr
	Interval int32
	Unit     string
	Limit    int32
}

// Period returns a rule's period.
func (r *RateLimitRule) Period() time.Duration {
	return time.Duration(r.Interval) * time.Duration(UnitSeconds(r.Unit)) * time.Second
}

// Rule returns the rule of a name (nil if there is none).
func (r *RateLimit) Rule(name string) *RateLimitRule {
	for i := range r.Rules {
		if r.Rules[i].Name == name {
			return &r.Rules[i]
		}
	}
	return nil
}

// Dims reports which dimensions the plug-in limits: user and app when
// a default limit or a special is set, ip, and rules.
func (r *RateLimit) Dims() (api, user, app, ip, rules bool) {
	return r.API > 0, r.User > 0 || len(r.UserSpecials) > 0, r.App > 0 || len(r.AppSpecials) > 0, r.IP > 0, len(r.Rules) > 0
}

// Special returns the special limit of an app or account (typ
// RateLimitSpecialApp or RateLimitSpecialUser).
func (r *RateLimit) Special(typ, key string) (int32, bool) {
	m := r.AppSpecials
	if typ == RateLimitSpecialUser {
		m = r.UserSpecials
	}
	n, ok := m[key]
	return n, ok
}

// CompileRateLimit prepares a rate_limit plug-in (its content must
// decode and validate; a content that does not is an error).
func CompileRateLimit(p *apigwv1.Plugin) (*RateLimit, error) {
	if p.GetPluginType() != PluginRateLimit {
		return nil, fmt.Errorf("plug-in %s is not a rate_limit plug-in", p.GetPluginName())
	}
	m, err := PluginContent(p)
	if err != nil {
		return nil, fmt.Errorf("plug-in %s: plugin_content %v", p.GetPluginName(), err)
	}
	v := m.(*apigwv1.RateLimitContent)
	var vs Violations
	validateRateLimit(newChecker(&vs, "plugin_content"), v, AbsoluteLimits())
	if len(vs) > 0 {
		return nil, fmt.Errorf("plug-in %s: %s", p.GetPluginName(), vs[0].String())
	}
	r := &RateLimit{
		PluginID: p.GetId(), Name: p.GetPluginName(), Shared: strings.EqualFold(v.Scope, RateLimitScopeShare),
		Interval: v.GetDefaultInterval(), Unit: rateLimitUnitMap[strings.ToLower(v.DefaultTimeUnit)],
		API: max(v.ApiLimit, 0), User: max(v.UserLimit, 0), App: max(v.AppLimit, 0), IP: max(v.IpLimit, 0),
	}
	if v.DefaultInterval == nil {
		r.Interval = 1
	}
	if v.DefaultTimeUnit == "" {
		r.Unit = UnitSecond
	}
	for _, s := range v.Specials {
		m := map[string]int32{}
		for _, p := range s.Policies {
			m[p.Key] = p.Limit
		}
		if strings.EqualFold(s.Type, RateLimitSpecialApp) {
			r.AppSpecials = mergeLimits(r.AppSpecials, m)
		} else {
			r.UserSpecials = mergeLimits(r.UserSpecials, m)
		}
	}
	r.Params = compilePluginParams(v.Parameters)
	for _, rule := range v.Rules {
		e, err := matchexpr.Parse(rule.MatchRegex)
		if err != nil {
			return nil, fmt.Errorf("plug-in %s: rule %s: %v", p.GetPluginName(), rule.RuleName, err)
		}
		rr := RateLimitRule{Name: rule.RuleName, Expr: e, Interval: r.Interval, Unit: r.Unit, Limit: rule.Limit}
		if rule.Interval != nil {
			rr.Interval = rule.GetInterval()
		}
		if rule.TimeUnit != "" {
			rr.Unit = rateLimitUnitMap[strings.ToLower(rule.TimeUnit)]
		}
		r.Rules = append(r.Rules, rr)
	}
	return r, nil
}

func mergeLimits(dst, src map[string]int32) map[string]int32 {
	if dst == nil {
		return src
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// RateLimitFor returns the rate_limit plug-in bound to (API, environment)
// prepared (nil, nil when none is bound).
func (in *Instance) RateLimitFor(apiID, envID string) (*RateLimit, error) {
	p := in.PluginOf(apiID, envID, PluginRateLimit)
	if p == nil {
		return nil, nil
	}
	return CompileRateLimit(p)
}

// checkRateLimitPeriod checks an interval (>= 1) and the period it makes
// with its unit (at most MaxPeriodDays).
func checkRateLimitPeriod(c checker, field string, interval int32, unit string) {
	if interval < 1 {
		c.add(field, "must be a positive integer (got %d)", interval)
		return
	}
	if secs := UnitSeconds(rateLimitUnitMap[unit]); secs > 0 && int64(interval)*secs > MaxPeriodDays*86400 {
		c.add(field, "%d %s is longer than %d days, the longest period apigw counts", interval, unit, MaxPeriodDays)
	}
}

// rateLimitUnit validates a time unit (case-insensitive, "" = def) and
// returns it in lower case.
func rateLimitUnit(c checker, field, unit, def string) string {
	if unit == "" {
		return def
	}
	u := strings.ToLower(unit)
	if !slices.Contains(rateLimitUnits, u) {
		c.add(field, "must be one of %s (got %q)", strings.Join(rateLimitUnits, ", "), unit)
		return def
	}
	return u
}

// checkOptionalLimit checks a user, app or ip limit: 0 or -1 (not
// limited) or positive.
func checkOptionalLimit(c checker, field string, n int32) {
	if n < -1 {
		c.add(field, "must be a positive integer, or -1 or 0 for no limit (got %d)", n)
	}
}

func validateRateLimit(c checker, v *apigwv1.RateLimitContent, lim Limits) {
	if v.Scope != "" {
		c.oneOf("scope", strings.ToLower(v.Scope), RateLimitScopeBasic, RateLimitScopeShare)
	}
	switch strings.ToLower(v.Algorithm) {
	case "", RateLimitAlgorithmCounter, RateLimitAlgorithmHAHT:
	case "local":
		c.add("algorithm", "local (per-node counting) is not supported: apigw's rate-limit service counts for all nodes (use counter or haht)")
	default:
		c.add("algorithm", "must be one of %s, %s (got %q)", RateLimitAlgorithmCounter, RateLimitAlgorithmHAHT, v.Algorithm)
	}
	unit := rateLimitUnit(c, "default_time_unit", v.DefaultTimeUnit, "second")
	interval := int32(1)
	if v.DefaultInterval != nil {
		interval = v.GetDefaultInterval()
	}
	checkRateLimitPeriod(c, "default_interval", interval, unit)
	api := v.ApiLimit
	switch {
	case api == 0:
		c.add("api_limit", "is required: a positive integer, or -1 for no limit")
	case api < -1:
		c.add("api_limit", "must be a positive integer or -1 (got %d)", api)
	case api > 0:
		if secs := int64(interval) * UnitSeconds(rateLimitUnitMap[unit]); secs > 0 && float64(api)/float64(secs) > float64(lim.APILimits) {
			c.add("api_limit", "%d per %d %s exceeds the instance limit of %d per second", api, interval, unit, lim.APILimits)
		}
	}
	checkOptionalLimit(c, "user_limit", v.UserLimit)
	checkOptionalLimit(c, "app_limit", v.AppLimit)
	checkOptionalLimit(c, "ip_limit", v.IpLimit)
	for _, f := range []struct {
		name string
		n    int32
	}{{"user_limit", v.UserLimit}, {"app_limit", v.AppLimit}, {"ip_limit", v.IpLimit}} {
		if api > 0 && f.n > api {
			c.add(f.name, "must not exceed api_limit (%d)", api)
		}
	}
	if v.UserLimit > 0 && v.AppLimit > v.UserLimit {
		c.add("app_limit", "must not exceed user_limit (%d)", v.UserLimit)
	}
	validateRateLimitSpecials(c, v, lim)
	params := validatePluginParams(c, v.Parameters)
	if len(v.Rules) > MaxRateLimitRules {
		c.add("rules", "at most %d rules (got %d)", MaxRateLimitRules, len(v.Rules))
	}
	names := map[string]bool{}
	for i, r := range v.Rules {
		rc := c.idx("rules", i)
		checkRule(rc, names, r.RuleName, r.MatchRegex, params)
		ru := rateLimitUnit(rc, "time_unit", r.TimeUnit, unit)
		ri := interval
		if r.Interval != nil {
			ri = r.GetInterval()
		}
		checkRateLimitPeriod(rc, "interval", ri, ru)
		if r.Limit < 1 {
			rc.add("limit", "is required: a positive integer (got %d)", r.Limit)
		}
	}
}

// checkRule checks a rule's name (unique among names, which it records)
// and expression (naming only params).
func checkRule(rc checker, names map[string]bool, name, expr string, params map[string]bool) {
	if rc.required("rule_name", name) {
		if !reRuleName.MatchString(name) {
			rc.add("rule_name", "must be 1-64 letters, digits, _ or -, starting with a letter or digit")
		}
		if names[name] {
			rc.add("rule_name", "%q is used by another rule", name)
		}
		names[name] = true
	}
	if rc.required("match_regex", expr) {
		checkRuleExpr(rc, expr, params)
	}
}

// checkRuleExpr parses a rule's expression; an error names its position
// inside the expression after the field (match_regex[2][1]).
func checkRuleExpr(c checker, src string, params map[string]bool) {
	e, err := matchexpr.Parse(src)
	if err == nil {
		err = e.CheckParams(func(name string) bool { return params[name] })
	}
	if err == nil {
		return
	}
	var pe *matchexpr.Error
	if errors.As(err, &pe) {
		c.add("match_regex"+pe.Path, "%s (offset %d); parameters: %s", pe.Msg, pe.Offset, paramList(params))
		return
	}
	c.add("match_regex", "%v", err)
}

func paramList(params map[string]bool) string {
	if len(params) == 0 {
		return "none defined (parameters)"
	}
	out := make([]string, 0, len(params))
	for k := range params {
		out = append(out, k)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func validateRateLimitSpecials(c checker, v *apigwv1.RateLimitContent, lim Limits) {
	counts := map[string]int{}
	seen := map[string]bool{}
	for i, s := range v.Specials {
		sc := c.idx("specials", i)
		typ := strings.ToLower(s.Type)
		if sc.required("type", s.Type) {
			sc.oneOf("type", typ, RateLimitSpecialApp, RateLimitSpecialUser)
		}
		if len(s.Policies) == 0 {
			sc.add("policies", "is required")
		}
		for j, p := range s.Policies {
			pc := sc.idx("policies", j)
			pc.required("key", p.Key)
			pc.maxLen("key", p.Key, 64)
			switch {
			case p.Limit < 1:
				pc.add("limit", "must be a positive integer (got %d)", p.Limit)
			case v.ApiLimit > 0 && p.Limit > v.ApiLimit:
				pc.add("limit", "must not exceed api_limit (%d) (got %d)", v.ApiLimit, p.Limit)
			}
			k := typ + "/" + p.Key
			if seen[k] {
				pc.add("key", "%s %q has two special limits", typ, p.Key)
			}
			seen[k] = true
			counts[typ]++
		}
	}
	for _, typ := range []string{RateLimitSpecialApp, RateLimitSpecialUser} {
		if counts[typ] > int(lim.Quotas.GetThrottleSpecials()) {
			c.add("specials", "at most %d special %s limits per plug-in (got %d)", lim.Quotas.GetThrottleSpecials(), typ, counts[typ])
		}
	}
}
