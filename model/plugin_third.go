package model

import (
	"strings"

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
)

var thirdAuthMethods = []string{"GET", "POST", "PUT", "HEAD"}

// ThirdAuthContentOf returns the content of a third_auth plug-in (nil if
// it does not decode).
func ThirdAuthContentOf(p *apigwv1.Plugin) *apigwv1.ThirdAuthContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.ThirdAuthContent)
	return c
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
		if r.VpcChannelEnabled {
			rc.add("vpc_channel_enabled", "load balance channels are not supported for the authentication service: give url_domain")
		}
		if r.VpcChannelInfo != nil && (r.VpcChannelInfo.VpcId != "" || r.VpcChannelInfo.VpcProxyHost != "") {
			rc.add("vpc_channel_info", "is not supported (load balance channels): leave it empty")
		}
		if rc.required("url_domain", r.UrlDomain) {
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
	if v.GetCarryBody().GetEnabled() {
		c.add("carry_body.enabled", "is not supported: the request body is not sent to the authentication service")
	}
	if v.GetCarryBody().GetMaxBodySize() < 0 {
		c.add("carry_body.max_body_size", "must not be negative")
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
	if v.SimpleAuthModeEnabled != nil && !*v.SimpleAuthModeEnabled {
		c.add("simple_auth_mode_enabled", "false is not supported: result matching (match_auth) is not implemented; a 2xx answer authenticates")
	}
	if v.RuleEnabled {
		c.add("rule_enabled", "black/white-list rules are not supported")
	}
	if v.RuleType != "" {
		c.oneOf("rule_type", strings.ToLower(v.RuleType), "allow", "deny")
	}
	if len(v.Parameters) > 0 {
		c.add("parameters", "black/white-list rules are not supported: leave parameters empty")
	}
	if len(v.Rules) > 0 {
		c.add("rules", "black/white-list rules are not supported: leave rules empty")
	}
	if v.CustomForbidLimit < 0 {
		c.add("custom_forbid_limit", "must not be negative (0: no blocking)")
	}
}
