package model

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const maxPolicyBackends = 5

func validateAPI(c checker, a *apigwv1.Api, lim Limits) {
	if c.required("name", a.Name) && !reGroupName.MatchString(a.Name) {
		c.add("name", "must be %s", patGroupName)
	}
	c.required("group_id", a.GroupId)
	c.oneOf("type", strconv.Itoa(int(a.Type)), "1", "2")
	c.maxLen("version", a.Version, 16)
	c.oneOf("req_protocol", a.ReqProtocol, ProtoHTTP, ProtoHTTPS, ProtoBoth)
	c.oneOf("req_method", a.ReqMethod, append(Methods(), MethodAny)...)
	tmpl, err := ParseFrontendPath(a.ReqUri)
	if err != nil {
		c.add("req_uri", "%v", err)
	}
	c.oneOf("match_mode", a.MatchMode, MatchNormal, MatchPrefix)
	c.oneOf("auth_type", a.AuthType, AuthNone, AuthApp, AuthIAM, AuthAuthorizer)
	c.oneOf("auth_opt.app_code_auth_type", a.GetAuthOpt().GetAppCodeAuthType(), AppCodeDisable, AppCodeHeader)
	if a.GetAuthOpt().GetAppCodeAuthType() == AppCodeHeader && a.AuthType != AuthApp {
		c.add("auth_opt.app_code_auth_type", "HEADER requires auth_type APP")
	}
	if a.AuthType == AuthAuthorizer && a.AuthorizerId == "" {
		c.add("authorizer_id", "is required when auth_type is AUTHORIZER")
	}
	if a.AuthorizerId != "" && a.AuthType == AuthNone {
		c.add("authorizer_id", "needs auth_type AUTHORIZER, or APP or IAM for two-factor authentication")
	}
	if a.ContentType != "" {
		c.oneOf("content_type", a.ContentType, "application/json", "application/xml", "multipart/form-data", "text/plain")
	}
	if !a.GetIsSendFgBodyBase64() && a.ContentType != "" && a.ContentType != "application/json" {
		c.add("is_send_fg_body_base64", "may be false only with content_type application/json")
	}
	c.maxLen("remark", a.Remark, 255)
	c.maxLen("body_remark", a.BodyRemark, 20480)
	c.maxLen("result_normal_sample", a.ResultNormalSample, 20480)
	c.maxLen("result_failure_sample", a.ResultFailureSample, 20480)
	if n := len(a.Tags); n > int(lim.Quotas.GetTagsPerApi()) {
		c.add("tags", "at most %d tags (got %d)", lim.Quotas.GetTagsPerApi(), n)
	}
	for i, t := range a.Tags {
		if l := len([]rune(t)); l < 1 || l > 128 {
			c.idx("tags", i).add("", "must be 1-128 characters")
		}
	}
	validateReqParams(c, a, tmpl, err == nil, lim)
	validateBackends(c, a, lim)
	validateServed(c, a, tmpl, err == nil)
}

func validateReqParams(c checker, a *apigwv1.Api, tmpl PathTemplate, pathOK bool, lim Limits) {
	if n := len(a.ReqParams); n > int(lim.Quotas.GetParamsPerApi()) {
		c.add("req_params", "at most %d parameters (got %d)", lim.Quotas.GetParamsPerApi(), n)
	}
	pathParams := tmpl.Params()
	seen := map[string]bool{}
	orchestrated := 0
	for i, p := range a.ReqParams {
		pc := c.idx("req_params", i)
		if pc.required("name", p.Name) && !reParamName.MatchString(p.Name) {
			pc.add("name", "must be 1-32 of [A-Za-z0-9._-] starting with a letter")
		}
		pc.oneOf("location", p.Location, LocPath, LocQuery, LocHeader, LocCookie)
		if why := ReservedParam(p.Name, p.Location, false); why != "" {
			pc.add("name", "%s", why)
		}
		key := p.Location + "/" + p.Name
		if p.Location == LocHeader {
			key = strings.ToLower(key)
		}
		if seen[key] {
			pc.add("name", "%s parameter %q is declared twice", p.Location, p.Name)
		}
		seen[key] = true
		if p.Location == LocPath && pathOK && !slices.Contains(pathParams, p.Name) {
			pc.add("name", "PATH parameter %q is not in req_uri %q", p.Name, a.ReqUri)
		}
		pc.oneOf("type", p.Type, TypeString, TypeNumber)
		pc.oneOf("required", strconv.Itoa(int(p.Required)), "1", "2")
		if p.Location == LocPath && p.Required != Yes {
			pc.add("required", "PATH parameters are always required (1)")
		}
		pc.oneOf("valid_enable", strconv.Itoa(int(p.ValidEnable)), "1", "2")
		pc.oneOf("pass_through", strconv.Itoa(int(p.PassThrough)), "1", "2")
		pc.maxLen("default_value", p.DefaultValue, 255)
		checkWire(pc, "default_value", p.DefaultValue)
		pc.maxLen("sample_value", p.SampleValue, 255)
		pc.maxLen("remark", p.Remark, 255)
		if p.MinNum != nil && p.MaxNum != nil && *p.MinNum > *p.MaxNum {
			pc.add("min_num", "must not exceed max_num")
		}
		if p.MinSize != nil && p.MaxSize != nil && *p.MinSize > *p.MaxSize {
			pc.add("min_size", "must not exceed max_size")
		}
		if p.MinSize != nil && *p.MinSize < 0 {
			pc.add("min_size", "must not be negative")
		}
		if p.Type == TypeNumber && p.DefaultValue != "" {
			if _, err := strconv.ParseFloat(p.DefaultValue, 64); err != nil {
				pc.add("default_value", "must be a number for a NUMBER parameter")
			}
		}
		if p.Type == TypeNumber && p.Enumerations != "" {
			for _, e := range SplitList(p.Enumerations) {
				if _, err := strconv.ParseFloat(e, 64); err != nil {
					pc.add("enumerations", "%q is not a number", e)
				}
			}
		}
		if len(p.Orchestrations) > 0 {
			orchestrated++
		}
	}
	if orchestrated > 1 {
		c.add("req_params", "only one parameter may have orchestration rules")
	}
}

func validateBackends(c checker, a *apigwv1.Api, lim Limits) {
	c.oneOf("backend_type", a.BackendType, BackendHTTP, BackendFunction, BackendMock)
	validateBackendParams(c.at("backend_params"), a, a.BackendParams, backendURI(a), defaultUsesGroups(a))
	switch a.BackendType {
	case BackendHTTP:
		if a.BackendApi == nil {
			c.add("backend_api", "is required when backend_type is HTTP")
		} else {
			b := a.BackendApi
			validateHTTPBackend(c.at("backend_api"), a, httpBackend{b.ReqProtocol, b.ReqMethod, b.ReqUri, b.Timeout, b.GetRetryCount(), b.UrlDomain, b.VpcChannelStatus, b.VpcChannelInfo, b.MemberGroupUrlInfos}, lim)
			c.maxLen("backend_api.remark", b.Remark, 255)
		}
	case BackendFunction:
		if a.FuncInfo == nil {
			c.add("func_info", "is required when backend_type is FUNCTION")
		} else {
			f := a.FuncInfo
			validateFunction(c.at("func_info"), f.FunctionUrn, f.InvocationType, f.NetworkType, f.Timeout, lim)
		}
	case BackendMock:
		if a.MockInfo != nil {
			validateMock(c.at("mock_info"), a.MockInfo.StatusCode, a.MockInfo.ResultContent, a.MockInfo.Headers)
		}
	}
	n := len(a.PolicyHttps) + len(a.PolicyFunctions) + len(a.PolicyMocks)
	if n > maxPolicyBackends {
		c.add("policy_https", "at most %d policy backends (got %d)", maxPolicyBackends, n)
	}
	if len(a.PolicyHttps) > 0 && a.BackendType != BackendHTTP {
		c.add("policy_https", "HTTP policy backends need backend_type HTTP")
	}
	if len(a.PolicyFunctions) > 0 && a.BackendType != BackendFunction {
		c.add("policy_functions", "FUNCTION policy backends need backend_type FUNCTION")
	}
	if len(a.PolicyMocks) > 0 && a.BackendType != BackendMock {
		c.add("policy_mocks", "MOCK policy backends need backend_type MOCK")
	}
	names := map[string]bool{}
	checkName := func(pc checker, name string) {
		if pc.required("name", name) && !rePolicyName.MatchString(name) {
			pc.add("name", "must be %s", patPolicyName)
		}
		if names[name] {
			pc.add("name", "policy backend %q is defined twice", name)
		}
		names[name] = true
	}
	for i, p := range a.PolicyHttps {
		pc := c.idx("policy_https", i)
		checkName(pc, p.Name)
		validateConditions(pc, a, p.EffectMode, p.Conditions)
		validateHTTPBackend(pc, a, httpBackend{p.ReqProtocol, p.ReqMethod, p.ReqUri, p.Timeout, p.GetRetryCount(), p.UrlDomain, p.VpcChannelStatus, p.VpcChannelInfo, p.MemberGroupUrlInfos}, lim)
		validateBackendParams(pc.at("backend_params"), a, p.BackendParams, groupURIs(p.ReqUri, p.VpcChannelStatus, p.MemberGroupUrlInfos), p.VpcChannelStatus == ChannelMemberGroups)
	}
	for i, p := range a.PolicyFunctions {
		pc := c.idx("policy_functions", i)
		checkName(pc, p.Name)
		validateConditions(pc, a, p.EffectMode, p.Conditions)
		validateFunction(pc, p.FunctionUrn, p.InvocationType, p.NetworkType, p.Timeout, lim)
		validateBackendParams(pc.at("backend_params"), a, p.BackendParams, "", false)
	}
	for i, p := range a.PolicyMocks {
		pc := c.idx("policy_mocks", i)
		checkName(pc, p.Name)
		validateConditions(pc, a, p.EffectMode, p.Conditions)
		validateMock(pc, p.StatusCode, p.ResultContent, p.Headers)
		validateBackendParams(pc.at("backend_params"), a, p.BackendParams, "", false)
	}
}

func backendURI(a *apigwv1.Api) string {
	if a.BackendType == BackendHTTP {
		b := a.GetBackendApi()
		return groupURIs(b.GetReqUri(), b.GetVpcChannelStatus(), b.GetMemberGroupUrlInfos())
	}
	return ""
}

// defaultUsesGroups says whether the API's default backend calls member
// groups (vpc_channel_status 4).
func defaultUsesGroups(a *apigwv1.Api) bool {
	return a.BackendType == BackendHTTP && a.GetBackendApi().GetVpcChannelStatus() == ChannelMemberGroups
}

// groupURIs is the path the backend parameters of a backend are checked
// against: req_uri, or with member groups their paths one after the other
// (a PATH parameter must appear in one of them, each placeholder of each
// needs one).
func groupURIs(uri string, status int32, urls []*apigwv1.MemberGroupUrlInfo) string {
	if status != ChannelMemberGroups {
		return uri
	}
	var b strings.Builder
	for _, u := range urls {
		b.WriteString(u.ReqUri)
	}
	return b.String()
}

type httpBackend struct {
	protocol, method, uri string
	timeout, retry        int32
	domain                string
	channelStatus         int32
	channel               *apigwv1.VpcChannelInfo
	groups                []*apigwv1.MemberGroupUrlInfo
}

func validateHTTPBackend(c checker, a *apigwv1.Api, b httpBackend, lim Limits) {
	c.oneOf("req_protocol", b.protocol, ProtoHTTP, ProtoHTTPS)
	c.oneOf("req_method", b.method, append(Methods(), MethodAny)...)
	if b.channelStatus != ChannelMemberGroups || b.uri != "" {
		validateBackendURI(c, b.uri)
	}
	c.rangeInt("timeout", int64(b.timeout), 1, int64(lim.MaxTimeout))
	c.rangeInt("retry_count", int64(b.retry), -1, 10)
	if len(b.groups) > 0 && b.channelStatus != ChannelMemberGroups {
		c.add("member_group_url_infos", "needs vpc_channel_status 4 (got %d)", b.channelStatus)
	}
	switch b.channelStatus {
	case ChannelOn, ChannelMemberGroups:
		if b.channel.GetVpcChannelId() == "" {
			c.add("vpc_channel_info.vpc_channel_id", "is required when vpc_channel_status is %d", b.channelStatus)
		}
		if h := b.channel.GetVpcChannelProxyHost(); h != "" && !ValidDomain(strings.Split(h, ":")[0], false) {
			c.add("vpc_channel_info.vpc_channel_proxy_host", "must be a host name")
		}
		if b.channelStatus == ChannelMemberGroups {
			validateGroupURLs(c, b)
		}
	case ChannelOff:
		if b.domain == "" {
			c.add("url_domain", "is required without a load-balance channel")
		} else {
			validateBackendAddress(c.at("url_domain"), b.domain)
		}
	default:
		c.add("vpc_channel_status", "must be 1 (use a channel), 2 (no channel) or 4 (the channel's member groups) (got %d)", b.channelStatus)
	}
}

// maxGroupURLs bounds the member groups one backend calls (each is a
// route per frontend match, docs/xds.md#member-group-backends).
const maxGroupURLs = 10

// validateGroupURLs checks the member-group URLs of a backend with
// vpc_channel_status 4 (docs/apig-semantics.md#member-group-backends).
// That the groups exist in the channel is checked against the instance
// (Instance.Check: checkGroupBackends, checkChannelGroupsUsed).
func validateGroupURLs(c checker, b httpBackend) {
	switch n := len(b.groups); {
	case n == 0:
		c.add("member_group_url_infos", "is required when vpc_channel_status is 4")
	case n > maxGroupURLs:
		c.add("member_group_url_infos", "at most %d member groups (got %d)", maxGroupURLs, n)
	}
	seen := map[string]bool{}
	for i, u := range b.groups {
		uc := c.idx("member_group_url_infos", i)
		key := "id/" + u.MemberGroupId
		switch {
		case u.MemberGroupId == "" && u.MemberGroupName == "":
			uc.add("member_group_name", "is required (or member_group_id)")
		case u.MemberGroupId != "" && u.MemberGroupName != "":
			uc.add("member_group_id", "give member_group_id or member_group_name, not both")
		case u.MemberGroupId != "":
			uc.maxLen("member_group_id", u.MemberGroupId, 64)
		default:
			key = "name/" + u.MemberGroupName
			if !reChannelName.MatchString(u.MemberGroupName) {
				uc.add("member_group_name", "must be 3-64 letters, CJK, digits or _.-, starting with a letter or CJK")
			}
		}
		if seen[key] {
			uc.add("member_group_name", "member group %s is listed twice", strings.TrimPrefix(strings.TrimPrefix(key, "id/"), "name/"))
		}
		seen[key] = true
		uc.oneOf("req_protocol", u.ReqProtocol, ProtoHTTP, ProtoHTTPS)
		uc.oneOf("req_method", u.ReqMethod, append(Methods(), MethodAny)...)
		if u.ReqMethod != b.method && (IsMethod(u.ReqMethod) || u.ReqMethod == MethodAny) {
			// ext_authz changes the method to the backend's before Envoy's
			// route (the group) is known.
			uc.add("req_method", "must be the backend's req_method (%s) (got %s)", b.method, u.ReqMethod)
		}
		validateBackendURI(uc, u.ReqUri)
	}
}

// validateBackendURI checks a backend path (req_uri).
func validateBackendURI(c checker, uri string) {
	switch {
	case uri == "":
		c.add("req_uri", "is required")
	case !strings.HasPrefix(uri, "/"):
		c.add("req_uri", "must start with /")
	case len(uri) > 512:
		c.add("req_uri", "must be at most 512 characters")
	case strings.ContainsAny(uri, "?"):
		c.add("req_uri", "must not contain a query string")
	}
	checkWire(c, "req_uri", uri)
	for _, v := range BackendPathParams(uri) {
		if strings.HasSuffix(v, "+") {
			c.add("req_uri", "greedy parameters {%s} are only allowed in frontend paths", v)
		}
	}
	validateEnvVarRefs(c.at("req_uri"), uri)
}

var reAddress = regexp.MustCompile(`^[A-Za-z0-9.\-_#\[\]:]+$`)

func validateBackendAddress(c checker, addr string) {
	if len(addr) > 255 {
		c.add("", "must be at most 255 characters")
	}
	if !reAddress.MatchString(addr) {
		c.add("", "must be host[:port] (IP or domain, #variables# allowed)")
		return
	}
	validateEnvVarRefs(c, addr)
	if len(EnvVarRefs(addr)) > 0 {
		return // checked again once resolved, at publication
	}
	if err := CheckHostPort(addr); err != nil {
		c.add("", "%v", err)
	}
}

func validateEnvVarRefs(c checker, s string) {
	if strings.Count(s, "#")%2 != 0 {
		c.add("", "has an unterminated #variable#")
	}
	for _, v := range EnvVarRefs(s) {
		if !reVarName.MatchString(v) {
			c.add("", "#%s# is not a valid variable name", v)
		}
	}
}

func validateFunction(c checker, urn, invocation, network string, timeout int32, lim Limits) {
	if c.required("function_urn", urn) && !strings.HasPrefix(urn, "http://") && !strings.HasPrefix(urn, "https://") && !strings.HasPrefix(urn, "urn:") {
		c.add("function_urn", "must be an http(s) URL of the function endpoint (or a urn:)")
	}
	c.oneOf("invocation_type", invocation, "sync", "async")
	c.oneOf("network_type", network, "V1", "V2")
	hi := int64(lim.MaxTimeout)
	if network == "V1" && hi > 60000 {
		hi = 60000
	}
	c.rangeInt("timeout", int64(timeout), 1, hi)
}

func validateMock(c checker, status int32, body string, headers []*apigwv1.MockHeader) {
	c.rangeInt("status_code", int64(status), 200, 599)
	c.maxLen("result_content", body, 2048)
	for i, h := range headers {
		hc := c.idx("headers", i)
		if hc.required("key", h.Key) && !ValidHeaderName(h.Key) {
			hc.add("key", "must be an HTTP header name")
		}
		checkWire(hc, "value", h.Value)
	}
}

// validateBackendParams checks the backend parameters of a backend whose
// path is uri; groups says the backend calls member groups, whose
// $context.member_group_* parameters it may then use (in headers).
func validateBackendParams(c checker, a *apigwv1.Api, ps []*apigwv1.BackendParam, uri string, groups bool) {
	if len(ps) > 50 {
		c.add("", "at most 50 backend parameters (got %d)", len(ps))
	}
	placeholders := BackendPathParams(uri)
	seen := map[string]bool{}
	for i, p := range ps {
		pc := c.idx("", i)
		if pc.required("name", p.Name) && !reParamName.MatchString(p.Name) {
			pc.add("name", "must be 1-32 of [A-Za-z0-9._-] starting with a letter")
		}
		pc.oneOf("location", p.Location, LocPath, LocQuery, LocHeader)
		pc.oneOf("origin", p.Origin, OriginRequest, OriginConstant, OriginSystem)
		if why := ReservedParam(p.Name, p.Location, true); why != "" {
			pc.add("name", "%s", why)
		}
		key := p.Location + "/" + p.Name
		if p.Location == LocHeader {
			key = strings.ToLower(key)
		}
		if seen[key] {
			pc.add("name", "backend %s parameter %q is defined twice", p.Location, p.Name)
		}
		seen[key] = true
		if p.Location == LocPath && uri != "" && !slices.Contains(placeholders, p.Name) {
			pc.add("name", "backend PATH parameter %q is not in the backend req_uri", p.Name)
		}
		if p.Location == LocPath && groups && !envoyPathSource(a, p) {
			// Envoy rewrites each group's path itself; ext_authz computes
			// one path per backend, not per group.
			pc.add("origin", "the path variables of member-group URLs must be constants or path parameters of the request")
		}
		pc.maxLen("value", p.Value, 255)
		checkWire(pc, "value", p.Value)
		pc.maxLen("remark", p.Remark, 255)
		switch p.Origin {
		case OriginRequest:
			if !hasReqParam(a, p.Value) && !orchestrated(a) { // else checked with the rules
				pc.add("value", "names no declared request parameter (%q)", p.Value)
			}
		case OriginSystem:
			if why := checkSystemParam(a, p); why != "" {
				pc.add("value", "%s", why)
			} else if why := checkGroupParam(p, groups); why != "" {
				pc.add("value", "%s", why)
			}
		}
	}
	for _, ph := range placeholders {
		if !seen[LocPath+"/"+ph] {
			c.add("", "backend path variable {%s} has no PATH backend parameter", ph)
		}
	}
}

// envoyPathSource reports whether a PATH backend parameter is a constant or
// a frontend PATH parameter (a value Envoy places in the path itself).
func envoyPathSource(a *apigwv1.Api, p *apigwv1.BackendParam) bool {
	switch p.Origin {
	case OriginConstant:
		return true
	case OriginRequest:
		for _, rp := range a.ReqParams {
			if rp.Name == p.Value {
				return rp.Location == LocPath && len(rp.Orchestrations) == 0
			}
		}
	}
	return false
}

// orchestrated reports whether a parameter of the API has orchestration
// rules: its mapped parameter may then be used like a declared one.
func orchestrated(a *apigwv1.Api) bool {
	for _, p := range a.ReqParams {
		if len(p.Orchestrations) > 0 {
			return true
		}
	}
	return false
}

func hasReqParam(a *apigwv1.Api, name string) bool {
	for _, p := range a.ReqParams {
		if p.Name == name {
			return true
		}
	}
	return false
}

// SystemParamKey parses a SYSTEM backend parameter into its namespace
// (internal, frontend, backend) and key: "$context.sourceIp" or "sourceIp"
// → (internal, sourceIp); "$context.authorizer.frontend.user" or value
// "user" with system_param_type frontend → (frontend, user).
func SystemParamKey(p *apigwv1.BackendParam) (ns, key string) {
	v := strings.TrimPrefix(p.Value, "$context.")
	if rest, ok := strings.CutPrefix(v, "authorizer.frontend."); ok {
		return SysParamFrontend, rest
	}
	if rest, ok := strings.CutPrefix(v, "authorizer.backend."); ok {
		return SysParamBackend, rest
	}
	ns = p.SystemParamType
	if ns == "" {
		ns = SysParamInternal
	}
	return ns, v
}

func checkSystemParam(a *apigwv1.Api, p *apigwv1.BackendParam) string {
	ns, key := SystemParamKey(p)
	switch ns {
	case SysParamInternal:
		if !slices.Contains(systemParams[:], key) {
			return "unknown system parameter " + strconv.Quote(p.Value) + "; one of " + strings.Join(systemParams[:], ", ")
		}
	case SysParamFrontend:
		if a.AuthorizerId == "" {
			return "frontend authorizer parameters need a frontend authorizer (authorizer_id)"
		}
		fallthrough
	case SysParamBackend:
		if !reContextKey.MatchString(key) {
			return "authorizer context keys are 1-32 of [A-Za-z0-9_-] starting with a letter"
		}
	default:
		return "system_param_type must be internal, frontend or backend"
	}
	return ""
}

// checkGroupParam refuses $context.member_group_name / _id where apigw
// cannot know the member group: outside a backend that calls member
// groups (vpc_channel_status 4), and in a query or path, which ext_authz
// fills before Envoy picks the group.
func checkGroupParam(p *apigwv1.BackendParam, groups bool) string {
	ns, key := SystemParamKey(p)
	if ns != SysParamInternal || !IsGroupParam(key) {
		return ""
	}
	if !groups {
		return key + " is only known on a backend that calls member groups (vpc_channel_status 4)"
	}
	if p.Location != LocHeader {
		return key + " can only be sent in a HEADER"
	}
	return ""
}

// IsGroupParam reports whether a system parameter (short name) is the
// member group the request is sent to.
func IsGroupParam(key string) bool { return key == "member_group_name" || key == "member_group_id" }

var reContextKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_\-]{0,31}$`)

func validateConditions(c checker, a *apigwv1.Api, effect string, conds []*apigwv1.Condition) {
	c.oneOf("effect_mode", effect, EffectAny, EffectAll)
	if len(conds) == 0 {
		c.add("conditions", "at least one condition is required")
	}
	if len(conds) > 5 {
		c.add("conditions", "at most 5 conditions (got %d)", len(conds))
	}
	for i, cd := range conds {
		validateCondition(c.idx("conditions", i), a, cd)
	}
}

func validateCondition(c checker, a *apigwv1.Api, cd *apigwv1.Condition) {
	c.oneOf("condition_origin", cd.ConditionOrigin, CondParam, CondSource, CondSystem, CondCookie, CondFrontendAuthorizer)
	if cd.ConditionOrigin != CondSource {
		c.oneOf("condition_type", cd.ConditionType, CondExact, CondEnum, CondPattern)
	}
	c.required("condition_value", cd.ConditionValue)
	switch cd.ConditionOrigin {
	case CondParam:
		if c.required("req_param_name", cd.ReqParamName) && !hasReqParam(a, cd.ReqParamName) && !orchestrated(a) { // else checked with the rules
			c.add("req_param_name", "names no declared request parameter (%q)", cd.ReqParamName)
		}
	case CondSystem:
		c.oneOf("sys_param_name", cd.SysParamName, "req_path", "req_method", "reqPath", "reqMethod")
		if m := cd.SysParamName; (m == "req_method" || m == "reqMethod") && cd.ConditionType == CondPattern {
			c.add("condition_type", "req_method conditions are exact or enum")
		}
		if m := cd.SysParamName; m == "req_method" || m == "reqMethod" {
			for _, v := range SplitList(cd.ConditionValue) {
				if !IsMethod(v) {
					c.add("condition_value", "%q is not an HTTP method", v)
				}
			}
		}
	case CondCookie:
		c.required("cookie_param_name", cd.CookieParamName)
		c.maxLen("cookie_param_name", cd.CookieParamName, 255)
	case CondFrontendAuthorizer:
		if a.AuthorizerId == "" {
			c.add("condition_origin", "frontend_authorizer conditions need a frontend authorizer (authorizer_id)")
		}
		key := strings.TrimPrefix(cd.FrontendAuthorizerParamName, "$context.authorizer.frontend.")
		if !reContextKey.MatchString(key) {
			c.add("frontend_authorizer_param_name", "must be $context.authorizer.frontend.<key>")
		}
	case CondSource:
		for _, v := range SplitList(cd.ConditionValue) {
			if r, err := ParseIPRange(v); err != nil || strings.Contains(v, "-") {
				c.add("condition_value", "source conditions take IP addresses and CIDRs (%q)", v)
			} else if !r.From.Is4() {
				c.add("condition_value", "source conditions take IPv4 addresses and CIDRs (%q)", v)
			}
		}
	}
	if cd.ConditionType == CondPattern && cd.ConditionValue != "" {
		if _, err := regexp.Compile(cd.ConditionValue); err != nil {
			c.add("condition_value", "is not a valid regular expression: %v", err)
		}
	}
	if cd.MappedParamLocation != "" {
		c.oneOf("mapped_param_location", cd.MappedParamLocation, "header", "query")
	}
}
