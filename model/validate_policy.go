package model

import (
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// ResetTimeLayout is the format of AppQuota.reset_time (UTC).
const ResetTimeLayout = "2006-01-02 15:04:05"

// validateReferenceChannel checks a reference channel
// (docs/apig-semantics.md#reference-channels): member groups pointing at
// channels, nothing of its own to balance or check.
func validateReferenceChannel(c checker, ch *apigwv1.VpcChannel) {
	if len(ch.MemberGroups) == 0 {
		c.add("member_groups", "a reference channel needs member groups, each pointing at a channel (reference_vpc_channel_id)")
	}
	for i, g := range ch.MemberGroups {
		c.idx("member_groups", i).required("reference_vpc_channel_id", g.ReferenceVpcChannelId)
	}
	if len(ch.Members) > 0 {
		c.add("members", "a reference channel has no members of its own (its member groups point at channels)")
	}
	if ch.Port != 0 {
		c.add("port", "a reference channel has no port of its own (each referenced channel uses its own)")
	}
	if ch.BalanceStrategy != StrategyWRR {
		c.add("balance_strategy", "a reference channel splits by member_group_weight; each referenced channel balances its members by its own strategy")
	}
	if ch.VpcHealthConfig != nil {
		c.add("vpc_health_config", "a reference channel has no health check of its own (each referenced channel checks its members)")
	}
}

func validateChannel(c checker, ch *apigwv1.VpcChannel, lim Limits) {
	if c.required("name", ch.Name) && !reChannelName.MatchString(ch.Name) {
		c.add("name", "must be 3-64 letters, CJK, digits or _.-, starting with a letter or CJK")
	}
	ref := ch.Type == ChannelReference
	if !ref {
		c.rangeInt("port", int64(ch.Port), 1, 65535)
	}
	c.rangeInt("balance_strategy", int64(ch.BalanceStrategy), 1, 4)
	if ch.MemberType == "ecs" {
		c.add("member_type", "ecs members need Huawei Cloud; use ip members (host) instead")
	} else {
		c.oneOf("member_type", ch.MemberType, "ip")
	}
	switch ch.Type {
	case ChannelReference:
		validateReferenceChannel(c, ch)
	case "microservice":
		c.add("type", "microservice channels (members from a service registry) are not supported; list the members (builtin)")
	default:
		c.oneOf("type", ch.Type, "builtin")
	}
	c.maxLen("remark", ch.Remark, 255)
	if n := len(ch.Members); n > int(lim.Quotas.GetMembersPerChannel()) {
		c.add("members", "at most %d members per channel (got %d)", lim.Quotas.GetMembersPerChannel(), n)
	}
	groups, ids := map[string]bool{}, map[string]bool{}
	for i, g := range ch.MemberGroups {
		gc := c.idx("member_groups", i)
		if gc.required("member_group_name", g.MemberGroupName) && !reChannelName.MatchString(g.MemberGroupName) {
			gc.add("member_group_name", "must be 3-64 letters, CJK, digits or _.-, starting with a letter or CJK")
		}
		if groups[g.MemberGroupName] {
			gc.add("member_group_name", "%q is defined twice", g.MemberGroupName)
		}
		groups[g.MemberGroupName] = true
		if g.MemberGroupId != "" {
			gc.maxLen("member_group_id", g.MemberGroupId, 64)
			if ids[g.MemberGroupId] {
				gc.add("member_group_id", "%q is used twice", g.MemberGroupId)
			}
			ids[g.MemberGroupId] = true
		}
		gc.maxLen("member_group_remark", g.MemberGroupRemark, 255)
		gc.rangeInt("member_group_weight", int64(g.MemberGroupWeight), 0, 100)
		if !ref && g.ReferenceVpcChannelId != "" {
			gc.add("reference_vpc_channel_id", "is only for reference channels (type reference)")
		}
	}
	seen := map[string]bool{}
	for i, m := range ch.Members {
		mc := c.idx("members", i)
		if mc.required("host", m.Host) {
			if _, err := netip.ParseAddr(m.Host); err != nil && !ValidDomain(m.Host, false) && m.Host != "localhost" {
				mc.add("host", "must be an IP address or a DNS name")
			}
		}
		mc.rangeInt("weight", int64(m.Weight), 0, 10000)
		mc.rangeInt("status", int64(m.Status), 1, 2)
		mc.rangeInt("port", int64(m.Port), 0, 65535)
		if m.MemberGroupName != "" && !groups[m.MemberGroupName] {
			mc.add("member_group_name", "names no member group (%q)", m.MemberGroupName)
		}
		key := m.Host + ":" + strconv.Itoa(int(m.Port))
		if seen[key] {
			mc.add("host", "member %s is listed twice", key)
		}
		seen[key] = true
	}
	if h := ch.VpcHealthConfig; h != nil {
		hc := c.at("vpc_health_config")
		hc.oneOf("protocol", h.Protocol, "TCP", "HTTP", "HTTPS")
		if h.Protocol == "HTTP" || h.Protocol == "HTTPS" {
			if hc.required("path", h.Path) && !strings.HasPrefix(h.Path, "/") {
				hc.add("path", "must start with /")
			}
			hc.oneOf("method", h.Method, "GET", "HEAD")
			if hc.required("http_code", h.HttpCode) {
				if _, err := ParseHTTPCodes(h.HttpCode); err != nil {
					hc.add("http_code", "%v", err)
				}
			}
		}
		hc.rangeInt("port", int64(h.Port), 0, 65535)
		hc.rangeInt("threshold_normal", int64(h.ThresholdNormal), 1, 10)
		hc.rangeInt("threshold_abnormal", int64(h.ThresholdAbnormal), 1, 10)
		hc.rangeInt("time_interval", int64(h.TimeInterval), 1, 300)
		hc.rangeInt("timeout", int64(h.Timeout), 1, 30)
		if h.Timeout >= h.TimeInterval {
			hc.add("timeout", "must be less than time_interval")
		}
		hc.rangeInt("status", int64(h.Status), 1, 2)
	}
}

// CodeRange is an inclusive range of HTTP status codes.
type CodeRange struct{ From, To int }

// ParseHTTPCodes parses "200", "200,201", "200-299", "201,210-299".
func ParseHTTPCodes(s string) ([]CodeRange, error) {
	var out []CodeRange
	for _, part := range SplitList(s) {
		from, to, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(from)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(to)
		}
		if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
			return nil, errorf("%q is not a status code or range within 100-599", part)
		}
		out = append(out, CodeRange{a, b})
	}
	if len(out) == 0 {
		return nil, errorf("at least one status code is required")
	}
	return out, nil
}

// MaxPeriodDays bounds time_interval x time_unit of throttling policies
// and credential quotas. APIG accepts a time_interval up to 2147483647 of
// any unit (2147483647 minutes are 4085 years), which the counters' clock
// arithmetic cannot hold; a period they cannot count would switch the
// limit off.
const MaxPeriodDays = 3650

// checkPeriod checks a time_interval (1..2147483647, as APIG) and the
// period it makes with its unit (at most MaxPeriodDays).
func checkPeriod(c checker, interval int32, unit string) {
	if interval < 1 {
		c.add("time_interval", "is required and must be at least 1")
		return
	}
	if secs := UnitSeconds(unit); secs > 0 && int64(interval)*secs > MaxPeriodDays*86400 {
		c.add("time_interval", "%d %s is longer than %d days, the longest period apigw counts", interval, strings.ToLower(unit), MaxPeriodDays)
	}
}

func validateThrottle(c checker, t *apigwv1.Throttle, lim Limits) {
	if c.required("name", t.Name) && !rePolicyName.MatchString(t.Name) {
		c.add("name", "must be %s", patPolicyName)
	}
	c.oneOf("time_unit", t.TimeUnit, UnitSecond, UnitMinute, UnitHour, UnitDay)
	checkPeriod(c, t.TimeInterval, t.TimeUnit)
	c.rangeInt("type", int64(t.Type), 1, 2)
	c.maxLen("remark", t.Remark, 255)
	if t.ApiCallLimits < 1 {
		c.add("api_call_limits", "is required and must be at least 1")
	} else if secs := int64(t.TimeInterval) * UnitSeconds(t.TimeUnit); secs > 0 && float64(t.ApiCallLimits)/float64(secs) > float64(lim.APILimits) {
		c.add("api_call_limits", "%d per %d %s exceeds the instance limit of %d per second", t.ApiCallLimits, t.TimeInterval, strings.ToLower(t.TimeUnit), lim.APILimits)
	}
	if t.UserCallLimits < 0 || t.AppCallLimits < 0 || t.IpCallLimits < 0 {
		c.add("", "call limits must not be negative")
	}
	if t.UserCallLimits > t.ApiCallLimits {
		c.add("user_call_limits", "must not exceed api_call_limits (%d)", t.ApiCallLimits)
	}
	if t.AppCallLimits > t.ApiCallLimits {
		c.add("app_call_limits", "must not exceed api_call_limits (%d)", t.ApiCallLimits)
	}
	if t.UserCallLimits > 0 && t.AppCallLimits > t.UserCallLimits {
		c.add("app_call_limits", "must not exceed user_call_limits (%d)", t.UserCallLimits)
	}
	if t.IpCallLimits > t.ApiCallLimits {
		c.add("ip_call_limits", "must not exceed api_call_limits (%d)", t.ApiCallLimits)
	}
	counts := map[string]int{}
	seen := map[string]bool{}
	for i, s := range t.Specials {
		sc := c.idx("specials", i)
		sc.oneOf("object_type", s.ObjectType, SpecialApp, SpecialUser)
		sc.required("object_id", s.ObjectId)
		if s.CallLimits < 1 || s.CallLimits > t.ApiCallLimits {
			sc.add("call_limits", "must be between 1 and api_call_limits (%d) (got %d)", t.ApiCallLimits, s.CallLimits)
		}
		key := s.ObjectType + "/" + s.ObjectId
		if seen[key] {
			sc.add("object_id", "%s %q has two special quotas", s.ObjectType, s.ObjectId)
		}
		seen[key] = true
		counts[s.ObjectType]++
	}
	for _, typ := range []string{SpecialApp, SpecialUser} {
		if counts[typ] > int(lim.Quotas.GetThrottleSpecials()) {
			c.add("specials", "at most %d special %s quotas per policy (got %d)", lim.Quotas.GetThrottleSpecials(), typ, counts[typ])
		}
	}
}

func validateACL(c checker, a *apigwv1.Acl) {
	if c.required("acl_name", a.AclName) && !rePolicyName.MatchString(a.AclName) {
		c.add("acl_name", "must be %s", patPolicyName)
	}
	c.oneOf("acl_type", a.AclType, ACLPermit, ACLDeny)
	c.oneOf("entity_type", a.EntityType, EntityIP, EntityDomain, EntityDomainID)
	c.maxLen("remark", a.Remark, 255)
	values := SplitList(a.AclValue)
	if len(values) == 0 {
		c.add("acl_value", "is required")
		return
	}
	switch a.EntityType {
	case EntityIP:
		if len(values) > 100 {
			c.add("acl_value", "at most 100 entries (got %d)", len(values))
		}
		for _, v := range values {
			if _, err := ParseIPRange(v); err != nil {
				c.add("acl_value", "%v", err)
			}
		}
	case EntityDomain, EntityDomainID:
		if len(a.AclValue) > 1024 {
			c.add("acl_value", "must be at most 1024 characters")
		}
		for _, v := range values {
			switch {
			case a.EntityType == EntityDomain && (!reAccountName.MatchString(v) || reAllDigits.MatchString(v)):
				c.add("acl_value", "account name %q must be 1-64 characters and not all digits", v)
			case a.EntityType == EntityDomainID && !reID.MatchString(v):
				c.add("acl_value", "account id %q must be 1-64 of [A-Za-z0-9_-]", v)
			}
		}
	}
}

func validateApp(c checker, a *apigwv1.App, lim Limits) {
	if c.required("name", a.Name) && !rePolicyName.MatchString(a.Name) {
		c.add("name", "must be %s", patPolicyName)
	}
	c.maxLen("remark", a.Remark, 255)
	if a.AppKey != "" && !reAppKey.MatchString(a.AppKey) {
		c.add("app_key", "must be 8-200 of [A-Za-z0-9_-], starting alphanumeric")
	}
	if a.AppSecret != "" && !reAppSecret.MatchString(a.AppSecret) {
		c.add("app_secret", "must be 8-128 of [A-Za-z0-9_-!@#$%%], starting alphanumeric")
	}
	c.rangeInt("status", int64(a.Status), 1, 2)
	if n := len(a.AppCodes); n > int(lim.Quotas.GetAppCodesPerApp()) {
		c.add("app_codes", "at most %d AppCodes per app (got %d)", lim.Quotas.GetAppCodesPerApp(), n)
	}
	codes := map[string]bool{}
	for i, code := range a.AppCodes {
		cc := c.idx("app_codes", i)
		if code.AppCode != "" && !reAppCode.MatchString(code.AppCode) {
			cc.add("app_code", "must be 64-180 of [A-Za-z0-9+_!@#$%%-/=], starting with a letter, digit, + or /")
		}
		if code.AppCode != "" && codes[code.AppCode] {
			cc.add("app_code", "is listed twice")
		}
		codes[code.AppCode] = true
	}
	if acl := a.AppAcl; acl != nil && (acl.AppAclType != "" || len(acl.AppAclValues) > 0) {
		c.oneOf("app_acl.app_acl_type", acl.AppAclType, ACLPermit, ACLDeny)
		if len(acl.AppAclValues) == 0 {
			c.add("app_acl.app_acl_values", "is required with app_acl_type")
		}
		for i, v := range acl.AppAclValues {
			if _, err := ParseIPRange(v); err != nil {
				c.idx("app_acl.app_acl_values", i).add("", "%v", err)
			}
		}
	}
}

func validateAppQuota(c checker, q *apigwv1.AppQuota) {
	if c.required("name", q.Name) && !reQuotaName.MatchString(q.Name) {
		c.add("name", "must be 3-255 letters, CJK, digits, _ or -, starting with a letter, CJK or digit")
	}
	if q.CallLimits < 1 {
		c.add("call_limits", "is required and must be at least 1")
	}
	c.oneOf("time_unit", q.TimeUnit, UnitSecond, UnitMinute, UnitHour, UnitDay)
	checkPeriod(c, q.TimeInterval, q.TimeUnit)
	if q.ResetTime != "" {
		if _, err := time.Parse(ResetTimeLayout, q.ResetTime); err != nil {
			c.add("reset_time", "must be %q (UTC)", ResetTimeLayout)
		}
	}
	c.maxLen("remark", q.Remark, 255)
}

func validateAuthorizer(c checker, a *apigwv1.Authorizer) {
	if c.required("name", a.Name) && !rePolicyName.MatchString(a.Name) {
		c.add("name", "must be %s", patPolicyName)
	}
	c.oneOf("type", a.Type, AuthorizerFrontend, AuthorizerBackend)
	c.oneOf("authorizer_type", a.AuthorizerType, "FUNC")
	if c.required("authorizer_uri", a.AuthorizerUri) {
		if u, err := url.Parse(a.AuthorizerUri); !IsFunctionURN(a.AuthorizerUri) && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			c.add("authorizer_uri", "must be the http(s) URL of the authorizer endpoint or a function URN (urn:fss:...) of the instance's function registry")
		}
	}
	c.oneOf("network_type", a.NetworkType, "V1", "V2")
	c.rangeInt("ttl", int64(a.Ttl), 0, 3600)
	c.maxLen("user_data", a.UserData, 2048)
	c.rangeInt("timeout", int64(a.Timeout), 1, 60000)
	c.maxLen("remark", a.Remark, 255)
	seen := map[string]bool{}
	for i, id := range a.Identities {
		ic := c.idx("identities", i)
		ic.oneOf("location", id.Location, LocHeader, LocQuery)
		if ic.required("name", id.Name) {
			if id.Location == LocHeader && !ValidHeaderName(id.Name) {
				ic.add("name", "must be an HTTP header name")
			}
		}
		key := id.Location + "/" + strings.ToLower(id.Name)
		if seen[key] {
			ic.add("name", "identity source %s %q is listed twice", id.Location, id.Name)
		}
		seen[key] = true
		ic.maxLen("validation", id.Validation, 1024)
		if id.Validation != "" {
			if _, err := regexp.Compile(id.Validation); err != nil {
				ic.add("validation", "is not a valid regular expression: %v", err)
			}
		}
	}
	if a.Type == AuthorizerBackend && len(a.Identities) > 0 {
		c.add("identities", "BACKEND authorizers take no identity sources")
	}
}

func validateResponse(c checker, r *apigwv1.GatewayResponse) {
	c.required("group_id", r.GroupId)
	if c.required("name", r.Name) && !reResponseName.MatchString(r.Name) {
		c.add("name", "must be 1-64 of [A-Za-z0-9_-]")
	}
	for typ, info := range r.Responses {
		rc := c.at("responses." + typ)
		if _, ok := ResponseType(typ); !ok {
			rc.add("", "unknown response type")
			continue
		}
		if why := unrenderedTypes[typ]; why != "" {
			rc.add("", "cannot be customized: %s", why)
			continue
		}
		if info.Status != 0 && (info.Status < 200 || info.Status > 599 || info.Status == 444) {
			rc.add("status", "must be 200-599 except 444 (got %d)", info.Status)
		}
		if len(info.Headers) > 10 {
			rc.add("headers", "at most 10 headers (got %d)", len(info.Headers))
		}
		for i, h := range info.Headers {
			hc := rc.idx("headers", i)
			if !reRespHdrKey.MatchString(h.Key) {
				hc.add("key", "must be 1-128 of [A-Za-z0-9_-]")
			}
			if l := len(h.Value); l < 1 || l > 1024 {
				hc.add("value", "must be 1-1024 characters")
			}
			if strings.Contains(h.Value, "[[") || strings.Contains(h.Value, "]]") || strings.ContainsAny(h.Value, "\r\n") {
				hc.add("value", "must not contain [[, ]] or line breaks")
			}
			checkWire(hc, "value", h.Value)
		}
	}
}
