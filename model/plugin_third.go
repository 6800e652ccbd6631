package model

import (
	"fmt"
	"strings"

	"github.com/apigw/apigw/model/matchexpr"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// PluginThirdAuth is the third_auth plug-in type
// (docs/plugins.md#third_auth).
const PluginThirdAuth = "third_auth"

// third_auth defaults and bounds.
const (
	ThirdAuthDefaultTimeout = 5000  // ms
	ThirdAuthMaxTimeout     = 60000 // ms
	ThirdAuthMaxIdentities  = 10    // headers, and query parameters
	ThirdAuthMaxRespHeaders = 10
	// ThirdAuthForbidWindow is the brute-force window, in seconds.
	ThirdAuthForbidWindow = 300
	// ThirdAuthMaxRules is how many black/white-list rules a plug-in has.
	ThirdAuthMaxRules = 100
	// ThirdAuthMaxBody bounds carry_body.max_body_size (bytes): the body
	// ext_authz receives from Envoy (12 MiB, as for APP signatures).
	ThirdAuthMaxBody = 12 << 20
	// ThirdAuthMaxMatchValue bounds match_auth.value.
	ThirdAuthMaxMatchValue = 1024
)

// Black/white-list types of a third_auth plug-in.
const (
	ThirdAuthRuleAllow = "allow"
	ThirdAuthRuleDeny  = "deny"
)

// ThirdAuthRules is the black/white list of a third_auth plug-in,
// prepared: whether a request calls the authentication service.
type ThirdAuthRules struct {
	// Deny: only requests matching a rule call the service (rule_type
	// deny); otherwise requests matching a rule are let through without
	// calling it (allow).
	Deny   bool
	Params []PluginParam
	Exprs  []*matchexpr.Expr
}

// Calls reports whether a request calls the service, given whether it
// matches one of the rules.
func (r *ThirdAuthRules) Calls(matched bool) bool { return matched == r.Deny }

// CompileThirdAuthRules prepares the black/white list of a validated
// third_auth content (nil when rule_enabled is off).
func CompileThirdAuthRules(v *apigwv1.ThirdAuthContent) (*ThirdAuthRules, error) {
	if !v.GetRuleEnabled() {
		return nil, nil
	}
	r := &ThirdAuthRules{Deny: strings.EqualFold(v.RuleType, ThirdAuthRuleDeny), Params: compilePluginParams(v.Parameters)}
	for _, rule := range v.Rules {
		e, err := matchexpr.Parse(rule.MatchRegex)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %v", rule.RuleName, err)
		}
		r.Exprs = append(r.Exprs, e)
	}
	return r, nil
}

// ThirdAuthMatch returns the header (lower case) and value of a third_auth
// plug-in's result matching, ok false in simple mode.
func ThirdAuthMatch(v *apigwv1.ThirdAuthContent) (header, value string, ok bool) {
	if v.SimpleAuthModeEnabled == nil || v.GetSimpleAuthModeEnabled() {
		return "", "", false
	}
	return strings.ToLower(strings.TrimSpace(v.GetMatchAuth().GetKey())), v.GetMatchAuth().GetValue(), true
}

var thirdAuthMethods = []string{"GET", "POST", "PUT", "HEAD"}

// ThirdAuthContentOf returns the content of a third_auth plug-in (nil if
// it does not decode).
func ThirdAuthContentOf(p *apigwv1.Plugin) *apigwv1.ThirdAuthContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.ThirdAuthContent)
	return c
}

// ThirdAuthChannel returns the load balance channel id of a third_auth
// plug-in's service ("" when it is called at url_domain).
func ThirdAuthChannel(v *apigwv1.ThirdAuthContent) string {
	if !v.GetAuthRequest().GetVpcChannelEnabled() {
		return ""
	}
	return v.GetAuthRequest().GetVpcChannelInfo().GetVpcId()
}

// ThirdAuthChannelOf returns the load balance channel a third_auth
// plug-in's service is called through: vpc_id is its id or its unique
// name (nil, nil without a channel).
func (in *Instance) ThirdAuthChannelOf(v *apigwv1.ThirdAuthContent) (*apigwv1.VpcChannel, error) {
	ref := ThirdAuthChannel(v)
	if ref == "" {
		return nil, nil
	}
	m, err := in.Find(KindVpcChannel, ref)
	if err != nil {
		return nil, err
	}
	return m.(*apigwv1.VpcChannel), nil
}

// ThirdAuthTimeout returns the service timeout of a third_auth plug-in in
// milliseconds.
func ThirdAuthTimeout(v *apigwv1.ThirdAuthContent) int32 {
	if t := v.GetAuthRequest().GetTimeout(); t > 0 {
		return t
	}
	return ThirdAuthDefaultTimeout
}

// ThirdAuthRespHeaders returns the response headers a third_auth plug-in
// copies to the backend (either spelling of the field).
func ThirdAuthRespHeaders(v *apigwv1.ThirdAuthContent) []string {
	if len(v.GetCarryRespHeaders()) > 0 {
		return v.GetCarryRespHeaders()
	}
	return v.GetCarryRespHeader()
}

func validateThirdAuth(c checker, v *apigwv1.ThirdAuthContent) {
	r := v.GetAuthRequest()
	if r == nil {
		c.add("auth_request", "is required")
	} else {
		rc := c.at("auth_request")
		if rc.required("method", r.Method) {
			rc.oneOf("method", strings.ToUpper(r.Method), thirdAuthMethods...)
		}
		if rc.required("protocol", r.Protocol) {
			rc.oneOf("protocol", strings.ToUpper(r.Protocol), "HTTP", "HTTPS")
		}
		info := r.GetVpcChannelInfo()
		switch {
		case r.VpcChannelEnabled:
			ic := rc.at("vpc_channel_info")
			ic.required("vpc_id", info.GetVpcId())
			if h := info.GetVpcProxyHost(); h != "" {
				ic.maxLen("vpc_proxy_host", h, 255)
				if err := CheckHostPort(h); err != nil {
					ic.add("vpc_proxy_host", "%v", err)
				}
			}
			if r.UrlDomain != "" {
				rc.add("url_domain", "must be empty with a load balance channel (vpc_channel_enabled): the channel's members are called")
			}
		case info.GetVpcId() != "" || info.GetVpcProxyHost() != "":
			rc.add("vpc_channel_info", "is only used with vpc_channel_enabled true: remove it or enable the channel")
		}
		if !r.VpcChannelEnabled && rc.required("url_domain", r.UrlDomain) {
			rc.maxLen("url_domain", r.UrlDomain, 255)
			if err := CheckHostPort(r.UrlDomain); err != nil {
				rc.add("url_domain", "%v", err)
			}
		}
		if r.Path != "" {
			if !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, "?# ") || HasControl(r.Path) {
				rc.add("path", "must be a path starting with / without query, fragment or spaces")
			}
			rc.maxLen("path", r.Path, 1024)
		}
		if r.Timeout != 0 {
			rc.rangeInt("timeout", int64(r.Timeout), 1, ThirdAuthMaxTimeout)
		}
	}
	ic := c.at("identities")
	for _, f := range []struct {
		name string
		ids  []*apigwv1.ThirdAuthIdentity
	}{{"headers", v.GetIdentities().GetHeaders()}, {"queries", v.GetIdentities().GetQueries()}} {
		if len(f.ids) > ThirdAuthMaxIdentities {
			ic.add(f.name, "at most %d (got %d)", ThirdAuthMaxIdentities, len(f.ids))
		}
		seen := map[string]bool{}
		for i, id := range f.ids {
			cc := ic.idx(f.name, i)
			if !cc.required("name", id.Name) {
				continue
			}
			cc.maxLen("name", id.Name, 64)
			key := id.Name
			if f.name == "headers" {
				key = strings.ToLower(key)
				if !ValidHeaderName(id.Name) {
					cc.add("name", "%q is not a header name", id.Name)
				}
			} else if HasControl(id.Name) || strings.ContainsAny(id.Name, "&=# ") {
				cc.add("name", "%q is not a query parameter name", id.Name)
			}
			if seen[key] {
				cc.add("name", "%q is listed twice", id.Name)
			}
			seen[key] = true
		}
	}
	if b := v.GetCarryBody(); b.GetEnabled() {
		c.at("carry_body").rangeInt("max_body_size", int64(b.MaxBodySize), 1, ThirdAuthMaxBody)
	} else if b.GetMaxBodySize() < 0 || b.GetMaxBodySize() > ThirdAuthMaxBody {
		c.at("carry_body").rangeInt("max_body_size", int64(b.GetMaxBodySize()), 0, ThirdAuthMaxBody)
	}
	field, hdrs := "carry_resp_headers", v.CarryRespHeaders
	if len(v.CarryRespHeader) > 0 {
		if len(v.CarryRespHeaders) > 0 {
			c.add("carry_resp_header", "give carry_resp_headers or carry_resp_header, not both")
		}
		field, hdrs = "carry_resp_header", v.CarryRespHeader
	}
	if len(hdrs) > ThirdAuthMaxRespHeaders {
		c.add(field, "at most %d headers (got %d)", ThirdAuthMaxRespHeaders, len(hdrs))
	}
	for i, h := range hdrs {
		l := strings.ToLower(h)
		switch {
		case !reClaimHeader.MatchString(h):
			c.add(index(field, i), "must be 1-64 letters, digits or -, starting with a letter")
		case strings.HasPrefix(l, "x-apig-") || l == "x-request-id" || l == "host" || l == "content-length" || l == "transfer-encoding" || l == "connection":
			c.add(index(field, i), "%s is set by the gateway and cannot be copied", h)
		}
	}
	validateThirdAuthMatch(c, v)
	validateThirdAuthRules(c, v)
	if v.CustomForbidLimit < 0 {
		c.add("custom_forbid_limit", "must not be negative (0: no blocking)")
	}
}

// validateThirdAuthMatch checks result matching: match_auth with
// simple_auth_mode_enabled false, and only then.
func validateThirdAuthMatch(c checker, v *apigwv1.ThirdAuthContent) {
	m := v.GetMatchAuth()
	simple := v.SimpleAuthModeEnabled == nil || v.GetSimpleAuthModeEnabled()
	if simple {
		if m.GetKey() != "" || m.GetValue() != "" {
			c.add("match_auth", "is only used with simple_auth_mode_enabled false (result matching): remove it or set simple_auth_mode_enabled to false")
		}
		return
	}
	if m == nil {
		c.add("match_auth", "is required with simple_auth_mode_enabled false: give the answer header (key) and its value")
		return
	}
	mc := c.at("match_auth")
	if mc.required("key", m.Key) {
		k := strings.TrimSpace(m.Key)
		if !ValidHeaderName(k) || len(k) > 64 {
			mc.add("key", "%q is not a header name (1-64 characters)", m.Key)
		}
	}
	if mc.required("value", m.Value) {
		mc.maxLen("value", m.Value, ThirdAuthMaxMatchValue)
		checkWire(mc, "value", m.Value)
	}
}

// validateThirdAuthRules checks the black/white list: rule_type, the
// parameters and the rules are required with rule_enabled and refused
// without (rule_type aside, which APIG sends with a default).
func validateThirdAuthRules(c checker, v *apigwv1.ThirdAuthContent) {
	if v.RuleType != "" {
		c.oneOf("rule_type", strings.ToLower(v.RuleType), ThirdAuthRuleAllow, ThirdAuthRuleDeny)
	}
	if !v.RuleEnabled {
		if len(v.Parameters) > 0 {
			c.add("parameters", "is only used with rule_enabled true: remove it or enable the rules")
		}
		if len(v.Rules) > 0 {
			c.add("rules", "is only used with rule_enabled true: remove them or enable the rules")
		}
		return
	}
	if v.RuleType == "" {
		c.add("rule_type", "is required with rule_enabled: allow or deny")
	}
	params := validatePluginParams(c, v.Parameters)
	switch {
	case len(v.Rules) == 0:
		c.add("rules", "is required with rule_enabled: at least one rule")
	case len(v.Rules) > ThirdAuthMaxRules:
		c.add("rules", "at most %d rules (got %d)", ThirdAuthMaxRules, len(v.Rules))
	}
	names := map[string]bool{}
	for i, r := range v.Rules {
		rc := c.idx("rules", i)
		checkRule(rc, names, r.RuleName, r.MatchRegex, params)
	}
}

// thirdAuthChannelUsers lists the third_auth plug-ins that call their
// service through the channel id and no longer resolve their vpc_id in
// this view (the channel was deleted or renamed): their vpc_id named it,
// by id or by its former name. Plug-in contents are not indexed, so this
// scans the plug-ins; it runs when a channel is written or deleted.
func (in *Instance) thirdAuthChannelUsers(id string) []Referrer {
	var out []Referrer
	for _, p := range List[*apigwv1.Plugin](in, KindPlugin) {
		if p.PluginType != PluginThirdAuth {
			continue
		}
		v := ThirdAuthContentOf(p)
		ref := ThirdAuthChannel(v)
		if ref == "" {
			continue
		}
		if ref == id {
			if in.Channel(id) == nil {
				out = append(out, Referrer{Kind: KindPlugin, ID: p.Id, Field: "plugin_content.auth_request.vpc_channel_info.vpc_id"})
			}
			continue
		}
		if _, err := in.ThirdAuthChannelOf(v); err != nil {
			out = append(out, Referrer{Kind: KindPlugin, ID: p.Id, Field: "plugin_content.auth_request.vpc_channel_info.vpc_id"})
		}
	}
	return out
}
