package model

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/apigw/apigw/model/matchexpr"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Breaker plug-in values (docs/plugins.md#breaker).
const (
	BreakerScopeBasic = "basic"
	BreakerScopeShare = "share"

	BreakerTypeTimeout   = "timeout"
	BreakerTypeCondition = "condition"

	BreakerModeCounter    = "counter"
	BreakerModePercentage = "percentage"

	// BreakerDowngradeTimeout is the default timeout of an http
	// downgrade (ms).
	BreakerDowngradeTimeout = 5000

	// The $context values an unhealthy_condition may compare.
	BreakerStatusCode      = "$context.statusCode"
	BreakerBackendRespTime = "$context.backendResponseTime"

	// BreakerMaxSeconds bounds time_window and open_breaker_time.
	BreakerMaxSeconds = 3600
	// BreakerMaxMockHeaders bounds the headers of a mock downgrade.
	BreakerMaxMockHeaders = 10
)

// BreakerContentOf returns the content of a breaker plug-in (nil if it
// does not decode).
func BreakerContentOf(p *apigwv1.Plugin) *apigwv1.BreakerContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.BreakerContent)
	return c
}

// BreakerScope is the effective scope of a breaker content (basic when
// empty).
func BreakerScope(v *apigwv1.BreakerContent) string {
	if v.GetScope() == "" {
		return BreakerScopeBasic
	}
	return strings.ToLower(v.GetScope())
}

// BreakerMode is the effective mode of a condition (counter when empty).
func BreakerMode(v *apigwv1.PluginBreakerCondition) string {
	if v.GetBreakerMode() == "" {
		return BreakerModeCounter
	}
	return strings.ToLower(v.GetBreakerMode())
}

// ParseUnhealthyCondition parses a condition breaker's unhealthy_condition:
// a rule expression (model/matchexpr) naming only $context.statusCode and
// $context.backendResponseTime.
func ParseUnhealthyCondition(src string) (*matchexpr.Expr, error) {
	e, err := matchexpr.Parse(src)
	if err != nil {
		return nil, err
	}
	if err := e.CheckParams(func(n string) bool { return n == BreakerStatusCode || n == BreakerBackendRespTime }); err != nil {
		return nil, errors.New(err.Error() + " (only " + BreakerStatusCode + " and " + BreakerBackendRespTime + " can be compared)")
	}
	return e, nil
}

func validateBreaker(c checker, v *apigwv1.BreakerContent, lim Limits) {
	if v.Scope != "" {
		c.oneOf("scope", strings.ToLower(v.Scope), BreakerScopeBasic, BreakerScopeShare)
	}
	if v.BreakerCondition == nil {
		c.add("breaker_condition", "is required")
	} else {
		validateBreakerCondition(c.at("breaker_condition"), v.BreakerCondition)
	}
	if v.DowngradeDefault != nil {
		validateDowngrade(c.at("downgrade_default"), v.DowngradeDefault, lim)
	}
	if len(v.DowngradeParameters) > BreakerMaxParams {
		c.add("downgrade_parameters", "at most %d parameters (got %d)", BreakerMaxParams, len(v.DowngradeParameters))
	}
	seen := map[string]bool{}
	for i, p := range v.DowngradeParameters {
		pc := c.idx("downgrade_parameters", i)
		validateBreakerParam(pc, p)
		if seen[p.Name] {
			pc.add("name", "%q is defined twice", p.Name)
		}
		seen[p.Name] = true
	}
	if len(v.DowngradeRules) > BreakerMaxRules {
		c.add("downgrade_rules", "at most %d rules (got %d)", BreakerMaxRules, len(v.DowngradeRules))
	}
	rules := map[string]bool{}
	for i, r := range v.DowngradeRules {
		rc := c.idx("downgrade_rules", i)
		if rc.required("rule_name", r.RuleName) {
			if !reBreakerRuleName.MatchString(r.RuleName) {
				rc.add("rule_name", "must be 1-64 letters, digits, - or _, starting with a letter")
			}
			if rules[r.RuleName] {
				rc.add("rule_name", "%q is used twice", r.RuleName)
			}
			rules[r.RuleName] = true
		}
		params, ok := validateRuleParams(rc, v, r)
		if rc.required("match_regex", r.MatchRegex) {
			rc.maxLen("match_regex", r.MatchRegex, 2048)
			e, err := matchexpr.Parse(r.MatchRegex)
			if err == nil && ok {
				err = e.CheckParams(func(n string) bool { _, ok := params[n]; return ok })
			}
			if err != nil {
				rc.add("match_regex", "%v", err)
			}
		}
		if r.BreakerCondition != nil {
			validateBreakerCondition(rc.at("breaker_condition"), r.BreakerCondition)
		}
		if r.DowngradeBackend != nil {
			validateDowngrade(rc.at("downgrade_backend"), r.DowngradeBackend, lim)
			if BreakerPolicyName(r.RuleName) == BreakerPolicyName("") && hasPolicy(r.DowngradeBackend) && hasPolicy(v.DowngradeDefault) {
				rc.add("rule_name", "%q names the route of downgrade_default's backend too: rename the rule", r.RuleName)
			}
		}
	}
}

// Breaker rule parameter types.
const (
	BreakerParamHeader = "header"
	BreakerParamQuery  = "query"
	BreakerParamPath   = "path"
	BreakerParamMethod = "method"
	BreakerParamSystem = "system"
)

// Bounds of downgrade rules.
const (
	BreakerMaxParams = 50
	BreakerMaxRules  = 20
)

var (
	reBreakerParamName = runeRange(`^[A-Za-z][A-Za-z0-9_.\-]*$`, 1, 32)
	reBreakerRuleName  = runeRange(`^[A-Za-z][A-Za-z0-9_\-]*$`, 1, 64)
)

// BreakerSystemParam returns the system parameter a system-type rule
// parameter names (its value, with or without "$context."), and whether
// it is one apigw knows.
func BreakerSystemParam(value string) (string, bool) {
	k := strings.TrimPrefix(value, "$context.")
	return k, slices.Contains(systemParams[:], k)
}

func validateBreakerParam(c checker, p *apigwv1.PluginCommonParameter) {
	if c.required("name", p.Name) && !reBreakerParamName.MatchString(p.Name) {
		c.add("name", "must be 1-32 letters, digits, _, - or ., starting with a letter")
	}
	typ := strings.ToLower(p.Type)
	if c.required("type", p.Type) {
		c.oneOf("type", typ, BreakerParamHeader, BreakerParamQuery, BreakerParamPath, BreakerParamMethod, BreakerParamSystem)
	}
	switch typ {
	case BreakerParamHeader:
		if c.required("value", p.Value) && !ValidHeaderName(p.Value) {
			c.add("value", "%q is not a header name", p.Value)
		}
	case BreakerParamQuery:
		if c.required("value", p.Value) {
			c.maxLen("value", p.Value, 255)
			checkWire(c, "value", p.Value)
		}
	case BreakerParamSystem:
		if c.required("value", p.Value) {
			if _, ok := BreakerSystemParam(p.Value); !ok {
				c.add("value", "unknown system parameter %q; one of %s", p.Value, strings.Join(systemParams[:], ", "))
			}
		}
	}
}

// validateRuleParams checks a rule's parameters list and returns the
// parameters its expression may name (ok false when the list is invalid).
func validateRuleParams(c checker, v *apigwv1.BreakerContent, r *apigwv1.PluginBreakerDowngradeRule) (map[string]*apigwv1.PluginCommonParameter, bool) {
	params, err := BreakerRuleParams(v, r)
	if err != nil {
		var pe *ruleParamError
		if errors.As(err, &pe) {
			if pe.param != nil {
				validateBreakerParam(c.idx("parameters", pe.index), pe.param)
			} else {
				c.add(index("parameters", pe.index), "%s", pe.msg)
			}
		}
		return nil, false
	}
	return params, true
}

type ruleParamError struct {
	index int
	msg   string
	param *apigwv1.PluginCommonParameter // an invalid own parameter
}

func (e *ruleParamError) Error() string {
	return "parameters[" + strconv.Itoa(e.index) + "]: " + e.msg
}

// BreakerRuleParams returns the parameters a downgrade rule's expression
// may name: its parameters list (names of downgrade_parameters, or
// parameter objects of its own), or all of downgrade_parameters when the
// list is empty.
func BreakerRuleParams(v *apigwv1.BreakerContent, r *apigwv1.PluginBreakerDowngradeRule) (map[string]*apigwv1.PluginCommonParameter, error) {
	defs := make(map[string]*apigwv1.PluginCommonParameter, len(v.GetDowngradeParameters()))
	for _, p := range v.GetDowngradeParameters() {
		defs[p.Name] = p
	}
	list := r.GetParameters().GetValues()
	if len(list) == 0 {
		return defs, nil
	}
	out := make(map[string]*apigwv1.PluginCommonParameter, len(list))
	for i, e := range list {
		switch k := e.GetKind().(type) {
		case *structpb.Value_StringValue:
			p := defs[k.StringValue]
			if p == nil {
				return nil, &ruleParamError{index: i, msg: strconv.Quote(k.StringValue) + " is not one of downgrade_parameters"}
			}
			out[p.Name] = p
		case *structpb.Value_StructValue:
			b, _ := protojson.Marshal(k.StructValue)
			p := &apigwv1.PluginCommonParameter{}
			if err := protojson.Unmarshal(b, p); err != nil {
				return nil, &ruleParamError{index: i, msg: "is not a parameter {name, type, value}: " + strings.TrimPrefix(err.Error(), "proto: ")}
			}
			var vs Violations
			validateBreakerParam(newChecker(&vs, ""), p)
			if len(vs) > 0 {
				return nil, &ruleParamError{index: i, msg: vs[0].String(), param: p}
			}
			out[p.Name] = p
		default:
			return nil, &ruleParamError{index: i, msg: "must be a parameter name or a parameter {name, type, value}"}
		}
	}
	return out, nil
}

func validateBreakerCondition(c checker, v *apigwv1.PluginBreakerCondition) {
	typ := strings.ToLower(v.BreakerType)
	if c.required("breaker_type", v.BreakerType) {
		c.oneOf("breaker_type", typ, BreakerTypeTimeout, BreakerTypeCondition)
	}
	switch {
	case typ == BreakerTypeCondition && c.required("unhealthy_condition", v.UnhealthyCondition):
		c.maxLen("unhealthy_condition", v.UnhealthyCondition, 1024)
		if _, err := ParseUnhealthyCondition(v.UnhealthyCondition); err != nil {
			c.add("unhealthy_condition", "%v", err)
		}
	case typ == BreakerTypeTimeout && v.UnhealthyCondition != "":
		c.add("unhealthy_condition", "must be empty for a timeout breaker (backend timeouts are the unhealthy calls)")
	}
	mode := BreakerMode(v)
	c.oneOf("breaker_mode", mode, BreakerModeCounter, BreakerModePercentage)
	switch mode {
	case BreakerModeCounter:
		c.rangeInt("unhealthy_threshold", int64(v.UnhealthyThreshold), 1, 2147483647)
	case BreakerModePercentage:
		c.rangeInt("min_call_threshold", int64(v.MinCallThreshold), 1, 2147483647)
		c.rangeInt("unhealthy_percentage", int64(v.UnhealthyPercentage), 1, 100)
	}
	c.rangeInt("time_window", int64(v.TimeWindow), 1, BreakerMaxSeconds)
	c.rangeInt("open_breaker_time", int64(v.OpenBreakerTime), 1, BreakerMaxSeconds)
}

// validateDowngradeHTTP checks the backend of an http downgrade (an
// address) or of an http_vpc one (a load balance channel, whose
// existence the instance checks: checkBreakerRefs), found in field.
func validateDowngradeHTTP(c checker, field string, h *apigwv1.PluginBreakerHttpInfo, vpc bool, lim Limits) {
	if h == nil {
		kind := DowngradeHTTP
		if vpc {
			kind = DowngradeHTTPVPC
		}
		c.add(field, "is required for an %s downgrade", kind)
		return
	}
	hc := c.at(field)
	if vpc {
		if hc.required("vpc_channel_id", h.VpcChannelId) {
			hc.maxLen("vpc_channel_id", h.VpcChannelId, 64)
		}
		if h.Address != "" {
			hc.add("address", "must be empty for a VPC channel downgrade (the channel's members are called)")
		}
	} else {
		if h.VpcChannelId != "" {
			hc.add("vpc_channel_id", "must be empty unless isVpc is true (an http downgrade calls address)")
		}
		if hc.required("address", h.Address) {
			hc.maxLen("address", h.Address, 255)
			if err := CheckHostPort(h.Address); err != nil {
				hc.add("address", "%v", err)
			}
		}
	}
	if hc.required("scheme", h.Scheme) {
		hc.oneOf("scheme", strings.ToUpper(h.Scheme), ProtoHTTP, ProtoHTTPS)
	}
	if hc.required("method", h.Method) {
		m := strings.ToUpper(h.Method)
		if m != MethodAny && !IsMethod(m) {
			hc.add("method", "must be one of %s or ANY (got %q)", strings.Join(methods[:], ", "), h.Method)
		}
	}
	if hc.required("path", h.Path) {
		switch {
		case h.Path[0] != '/':
			hc.add("path", "must start with /")
		case strings.ContainsAny(h.Path, "{}?#"):
			hc.add("path", "must be a literal path (no {parameters}, query or fragment)")
		}
		hc.maxLen("path", h.Path, 1024)
		checkWire(hc, "path", h.Path)
	}
	if h.Timeout != 0 {
		// The instance's backend timeout ceiling, as for API backends.
		hc.rangeInt("timeout", int64(h.Timeout), 1, int64(lim.MaxTimeout))
	}
}

// BreakerPolicyName is the name of the policy backend that carries the
// http downgrade of a downgrade rule ("" for downgrade_default). The ":"
// cannot appear in the names of an API's own policy backends.
func BreakerPolicyName(rule string) string {
	if rule == "" {
		return BreakerPolicyPrefix + "default"
	}
	return BreakerPolicyPrefix + rule
}

// hasPolicy: the downgrade is a policy backend (BreakerPolicyName).
func hasPolicy(d *apigwv1.PluginBreakerDowngradeInfo) bool {
	switch DowngradeKind(d) {
	case DowngradeHTTP, DowngradeHTTPVPC, DowngradeFunc:
		return true
	}
	return false
}

// BreakerPolicyPrefix starts the names of breaker downgrade policy
// backends (BreakerPolicyName).
const BreakerPolicyPrefix = "breaker:"

// BreakerHTTPPolicies returns the http and http_vpc downgrades of a
// breaker content as HTTP policy backends without conditions (never
// selected by conditions; an open breaker selects them), named by
// BreakerPolicyName: the translator gives them routes (an http_vpc one
// the channel's cluster) and ext_authz their backend mapping, as for the
// API's own policy backends. params are the API's backend parameters,
// which the downgrade backend gets like the default backend.
func BreakerHTTPPolicies(v *apigwv1.BreakerContent, params []*apigwv1.BackendParam) []*apigwv1.PolicyHttp {
	var out []*apigwv1.PolicyHttp
	add := func(rule string, d *apigwv1.PluginBreakerDowngradeInfo) {
		kind := DowngradeKind(d)
		if kind != DowngradeHTTP && kind != DowngradeHTTPVPC {
			return
		}
		h, _, err := BreakerDowngradeHTTP(d)
		if err != nil || h == nil {
			return
		}
		timeout := h.GetTimeout()
		if timeout == 0 {
			timeout = BreakerDowngradeTimeout
		}
		retries := int32(0)
		ph := &apigwv1.PolicyHttp{
			Name: BreakerPolicyName(rule), ReqProtocol: strings.ToUpper(h.GetScheme()),
			ReqMethod: strings.ToUpper(h.GetMethod()), ReqUri: h.GetPath(), Timeout: timeout, RetryCount: &retries,
			BackendParams: params,
		}
		if kind == DowngradeHTTPVPC {
			ph.VpcChannelStatus, ph.VpcChannelInfo = ChannelOn, &apigwv1.VpcChannelInfo{VpcChannelId: h.GetVpcChannelId()}
		} else {
			ph.UrlDomain = h.GetAddress()
		}
		out = append(out, ph)
	}
	add("", v.GetDowngradeDefault())
	for _, r := range v.GetDowngradeRules() {
		add(r.GetRuleName(), r.GetDowngradeBackend())
	}
	return out
}

// BreakerFunctionPolicies returns the func downgrades of a breaker content
// as FUNCTION policy backends without conditions, named by
// BreakerPolicyName: the translator routes them to the functions
// component, which calls their function (BreakerDowngradeOf).
func BreakerFunctionPolicies(v *apigwv1.BreakerContent, params []*apigwv1.BackendParam) []*apigwv1.PolicyFunction {
	var out []*apigwv1.PolicyFunction
	add := func(rule string, d *apigwv1.PluginBreakerDowngradeInfo) {
		if DowngradeKind(d) != DowngradeFunc {
			return
		}
		f, err := BreakerDowngradeFunc(d)
		if err != nil || f == nil {
			return
		}
		out = append(out, &apigwv1.PolicyFunction{
			Name: BreakerPolicyName(rule), FunctionUrn: f.FunctionUrn, Version: f.Version, AliasUrn: f.AliasUrn,
			InvocationType: f.InvocationType, NetworkType: f.NetworkType, Timeout: f.Timeout, BackendParams: params,
		})
	}
	add("", v.GetDowngradeDefault())
	for _, r := range v.GetDowngradeRules() {
		add(r.GetRuleName(), r.GetDowngradeBackend())
	}
	return out
}

// BreakerDowngrades calls f with each downgrade of a breaker content and
// its field path: downgrade_default and each rule's downgrade_backend.
func BreakerDowngrades(v *apigwv1.BreakerContent, f func(field, rule string, d *apigwv1.PluginBreakerDowngradeInfo)) {
	if d := v.GetDowngradeDefault(); d != nil {
		f("downgrade_default", "", d)
	}
	for i, r := range v.GetDowngradeRules() {
		if d := r.GetDowngradeBackend(); d != nil {
			f(index("downgrade_rules", i)+".downgrade_backend", r.GetRuleName(), d)
		}
	}
}
