package openapi

import (
	"fmt"
	"strings"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Backend types of x-apigateway-backend.
const (
	typeHTTP        = "HTTP"
	typeHTTPVPC     = "HTTP-VPC"
	typeFunction    = "FUNCTION"
	typeMock        = "MOCK"
	typeMemberGroup = "HTTP-VPC-MEMBER-GROUP"
)

// httpTarget is what httpEndpoints / httpVpcEndpoints describe.
type httpTarget struct {
	protocol, method, uri, domain, remark string
	timeout                               int32
	retry                                 *int32
	clientSSL                             bool
	channel                               *apigwv1.VpcChannelInfo
	// groups: the member-group URLs of an HTTP-VPC-MEMBER-GROUP backend.
	groups []*apigwv1.MemberGroupUrlInfo
}

// channelStatus is the vpc_channel_status of an imported HTTP backend: 4
// when it calls member groups, else left to the defaults (1 with a
// channel).
func (t httpTarget) channelStatus() int32 {
	if len(t.groups) > 0 {
		return model.ChannelMemberGroups
	}
	return 0
}

func (c *converter) backend(p string, v any, a *apigwv1.Api) {
	o, ok := asObj(c.ps, p, v)
	if !ok {
		return
	}
	typ := o.enum([]string{"type"}, typeHTTP, typeHTTPVPC, typeFunction, typeMock, typeMemberGroup)
	c.rec("backend_type", o.at("type"))
	a.BackendParams = c.backendParams(o, "backend_params")
	authz := o.str("authorizer")
	switch typ {
	case typeHTTP, typeHTTPVPC, typeMemberGroup:
		a.BackendType = model.BackendHTTP
		t := c.httpEndpoints(o, typ, "backend_api")
		c.rec("backend_api.authorizer_id", o.at("authorizer"))
		a.BackendApi = &apigwv1.BackendApi{ReqProtocol: t.protocol, ReqMethod: t.method, ReqUri: t.uri, UrlDomain: t.domain, Timeout: t.timeout,
			RetryCount: t.retry, EnableClientSsl: t.clientSSL, VpcChannelInfo: t.channel, Remark: t.remark, AuthorizerId: c.authorizerRef(o, authz),
			VpcChannelStatus: t.channelStatus(), MemberGroupUrlInfos: t.groups}
	case typeFunction:
		a.BackendType = model.BackendFunction
		f := o.object("functionEndpoints")
		if f == nil {
			c.ps.errorf(p, "functionEndpoints is required for a FUNCTION backend")
			break
		}
		pf := c.function(f, "func_info")
		c.rec("func_info.authorizer_id", o.at("authorizer"))
		a.FuncInfo = &apigwv1.FuncInfo{FunctionUrn: pf.FunctionUrn, Version: pf.Version, AliasUrn: pf.AliasUrn, InvocationType: pf.InvocationType,
			NetworkType: pf.NetworkType, Timeout: pf.Timeout, Remark: f.str("description"), AuthorizerId: c.authorizerRef(o, authz)}
		f.unknown("functionEndpoints")
	case typeMock:
		a.BackendType = model.BackendMock
		m := o.object("mockEndpoints")
		a.MockInfo = &apigwv1.MockInfo{AuthorizerId: c.authorizerRef(o, authz)}
		c.rec("mock_info", o.ptr)
		c.rec("mock_info.authorizer_id", o.at("authorizer"))
		if m != nil {
			pm := c.mock(m, "mock_info")
			a.MockInfo.ResultContent, a.MockInfo.StatusCode, a.MockInfo.Headers = pm.ResultContent, pm.StatusCode, pm.Headers
			a.MockInfo.Remark = m.str("description")
			m.unknown("mockEndpoints")
		}
	case "":
		c.ps.errorf(p, "type is required: HTTP, HTTP-VPC, HTTP-VPC-MEMBER-GROUP, FUNCTION or MOCK")
	}
	o.unknown(extBackend)
}

// authorizerRef maps the backend's authorizer (a security scheme name,
// apigw's own key) to the authorizer's name.
func (c *converter) authorizerRef(o *obj, scheme string) string {
	if scheme == "" {
		return ""
	}
	if n, ok := c.authorizers[scheme]; ok {
		return n
	}
	return scheme // an authorizer that exists already
}

func (c *converter) httpEndpoints(o *obj, typ, field string) httpTarget {
	if typ == typeMemberGroup {
		return c.memberGroupEndpoints(o, field)
	}
	key := "httpEndpoints"
	if typ == typeHTTPVPC {
		key = "httpVpcEndpoints"
	}
	e := o.object(key)
	c.rec(field, o.ptr)
	c.recKeys(field, e, keys("req_protocol", "scheme"), keys("req_method", "method"), keys("req_uri", "path"), keys("url_domain", "address"),
		keys("timeout", "timeout"), keys("retry_count", "retryCount", "retry_count"), keys("enable_client_ssl", "enableClientSsl", "enable_client_ssl"),
		keys("remark", "description"), keys("vpc_channel_info", "name"), keys("vpc_channel_info.vpc_channel_proxy_host", "host"))
	if e == nil {
		c.ps.errorf(o.ptr, "%s is required for a %s backend", key, typ)
		return httpTarget{}
	}
	t := httpTarget{}
	if typ == typeHTTPVPC {
		t.channel = &apigwv1.VpcChannelInfo{VpcChannelId: e.str("name"), VpcChannelProxyHost: e.str("host")}
		if t.channel.VpcChannelId == "" {
			c.ps.errorf(e.ptr, "name (the load-balance channel) is required")
		}
		if b, ok := e.boolean("cascade_flag"); ok && b {
			c.ps.warnf(ptr(e.ptr, "cascade_flag"), "cascading gateways are not supported; ignored")
		}
	} else {
		k, av, _ := e.key("address")
		switch x := av.(type) {
		case string:
			t.domain = x
		case []any: // documented as an array
			if len(x) > 0 {
				t.domain, _ = x[0].(string)
			}
			if len(x) > 1 {
				c.ps.warnf(ptr(e.ptr, k), "only the first address is used; use a load-balance channel for several")
			}
		case nil:
		default:
			c.ps.errorf(ptr(e.ptr, k), "must be host[:port] (got %s)", typeName(av))
		}
		if t.domain == "" {
			c.ps.errorf(e.ptr, "address is required")
		}
	}
	t.protocol = e.enum([]string{"scheme"}, model.ProtoHTTP, model.ProtoHTTPS)
	t.method = e.enum([]string{"method"}, append(model.Methods(), model.MethodAny)...)
	t.uri = e.str("path")
	t.timeout = c.timeout(e)
	if n, ok := e.num("retryCount", "retry_count"); ok {
		t.retry = int32p(n)
	}
	if b, ok := e.boolean("enableClientSsl", "enable_client_ssl"); ok {
		t.clientSSL = b
	}
	t.remark = e.str("description")
	e.unknown(key)
	return t
}

// memberGroupEndpoints decodes httpVpcMemberGroupEndpoints: the channel
// (name, host), the backend's timeout, retries and client TLS, and per
// member group (memberGroupUrlInfos[].name) its scheme, method and path
// (docs/apig-semantics.md#member-group-backends). The backend's method is
// the groups' (apigw calls every group with one method).
func (c *converter) memberGroupEndpoints(o *obj, field string) httpTarget {
	const key = "httpVpcMemberGroupEndpoints"
	e := o.object(key)
	c.rec(field, o.ptr)
	c.recKeys(field, e, keys("timeout", "timeout"), keys("retry_count", "retryCount", "retry_count"),
		keys("enable_client_ssl", "enableClientSsl", "enable_client_ssl"), keys("remark", "description"), keys("vpc_channel_info", "name"),
		keys("vpc_channel_info.vpc_channel_proxy_host", "host"), keys("member_group_url_infos", "memberGroupUrlInfos"))
	if e == nil {
		c.ps.errorf(o.ptr, "%s is required for a %s backend", key, typeMemberGroup)
		return httpTarget{}
	}
	t := httpTarget{channel: &apigwv1.VpcChannelInfo{VpcChannelId: e.str("name"), VpcChannelProxyHost: e.str("host")}}
	if t.channel.VpcChannelId == "" {
		c.ps.errorf(e.ptr, "name (the load-balance channel) is required")
	}
	if b, ok := e.boolean("enableSmChannel", "enable_sm_channel"); ok && b {
		c.ps.errorf(ptr(e.ptr, "enableSmChannel"), "SM (Chinese cryptography) channels are not supported")
	}
	t.timeout = c.timeout(e)
	if n, ok := e.num("retryCount", "retry_count"); ok {
		t.retry = int32p(n)
	}
	if b, ok := e.boolean("enableClientSsl", "enable_client_ssl"); ok {
		t.clientSSL = b
	}
	t.remark = e.str("description")
	l, lp := e.list("memberGroupUrlInfos")
	if len(l) == 0 {
		c.ps.errorf(e.ptr, "memberGroupUrlInfos is required (one entry per member group)")
	}
	for i, v := range l {
		uo, ok := asObj(c.ps, ptr(lp, i), v)
		if !ok {
			continue
		}
		uf := fmt.Sprintf("%s.member_group_url_infos[%d]", field, len(t.groups))
		c.recKeys(uf, uo, keys("member_group_name", "name"), keys("req_protocol", "scheme"), keys("req_method", "method"), keys("req_uri", "path"))
		u := &apigwv1.MemberGroupUrlInfo{MemberGroupName: uo.str("name"), ReqProtocol: uo.enum([]string{"scheme"}, model.ProtoHTTP, model.ProtoHTTPS),
			ReqMethod: uo.enum([]string{"method"}, append(model.Methods(), model.MethodAny)...), ReqUri: uo.str("path")}
		if u.MemberGroupName == "" {
			c.ps.errorf(uo.ptr, "name (the member group) is required")
		}
		if t.method == "" {
			t.method, t.protocol = u.ReqMethod, u.ReqProtocol
		}
		uo.unknown("a member group URL")
		t.groups = append(t.groups, u)
	}
	e.unknown(key)
	return t
}

func (c *converter) function(f *obj, field string) *apigwv1.PolicyFunction {
	c.recKeys(field, f, keys("function_urn", "function-urn", "function_urn"), keys("version", "version"), keys("alias_urn", "alias-urn", "alias_urn"),
		keys("network_type", "network-type", "network_type"), keys("invocation_type", "invocation-type", "invocation_type"), keys("timeout", "timeout"),
		keys("remark", "description"))
	pf := &apigwv1.PolicyFunction{FunctionUrn: f.str("function-urn", "function_urn"), Version: f.str("version"), AliasUrn: f.str("alias-urn", "alias_urn"),
		NetworkType: f.enum([]string{"network-type", "network_type"}, "V1", "V2")}
	if pf.FunctionUrn == "" {
		c.ps.errorf(f.ptr, "function-urn is required")
	}
	switch inv := strings.ToLower(f.str("invocation-type", "invocation_type")); inv {
	case "sync", "synchronous":
		pf.InvocationType = "sync"
	case "async", "asynchronous":
		pf.InvocationType = "async"
	case "":
	default:
		k, _, _ := f.key("invocation-type", "invocation_type")
		c.ps.errorf(ptr(f.ptr, k), "must be sync or async (got %q)", inv)
	}
	pf.Timeout = c.timeout(f)
	return pf
}

func (c *converter) mock(m *obj, field string) *apigwv1.PolicyMock {
	c.recKeys(field, m, keys("result_content", "result-content", "result_content"), keys("status_code", "status-code", "status_code", "statusCode"),
		keys("headers", "headers"), keys("remark", "description"))
	pm := &apigwv1.PolicyMock{ResultContent: m.str("result-content", "result_content")}
	if n, ok := m.num("status-code", "status_code", "statusCode"); ok {
		pm.StatusCode = int32(n)
	}
	hs, hp := m.list("headers")
	for i, h := range hs {
		ho, ok := asObj(c.ps, ptr(hp, i), h)
		if !ok {
			continue
		}
		c.rec(fmt.Sprintf("%s.headers[%d]", field, len(pm.Headers)), ho.ptr)
		pm.Headers = append(pm.Headers, &apigwv1.MockHeader{Key: ho.str("key", "name"), Value: ho.str("value"), Remark: ho.str("remark", "description")})
		ho.unknown("a mock header")
	}
	return pm
}

func (c *converter) backendParams(o *obj, field string) []*apigwv1.BackendParam {
	if _, _, ok := o.lookup("parameters"); ok {
		c.rec(field, o.at("parameters"))
	}
	l, lp := o.list("parameters")
	var out []*apigwv1.BackendParam
	for i, v := range l {
		po, ok := asObj(c.ps, ptr(lp, i), v)
		if !ok {
			continue
		}
		bp := &apigwv1.BackendParam{Name: po.str("name"), Value: po.str("value"),
			Location: po.enum([]string{"in", "location"}, model.LocHeader, model.LocQuery, model.LocPath),
			Origin:   po.enum([]string{"origin"}, model.OriginRequest, model.OriginConstant, model.OriginSystem),
			Remark:   po.str("description", "remark")}
		if t := po.enum([]string{"system_param_type", "system-param-type"}, model.SysParamInternal, model.SysParamFrontend, model.SysParamBackend); t != "" {
			bp.SystemParamType = t
		}
		c.recKeys(fmt.Sprintf("%s[%d]", field, len(out)), po, keys("name", "name"), keys("value", "value"), keys("location", "in", "location"),
			keys("origin", "origin"), keys("remark", "description", "remark"), keys("system_param_type", "system_param_type", "system-param-type"))
		for _, req := range []struct{ v, k string }{{bp.Name, "name"}, {bp.Location, "in"}, {bp.Origin, "origin"}} {
			if req.v == "" {
				c.ps.errorf(ptr(lp, i), "%s is required", req.k)
			}
		}
		po.unknown("a backend parameter")
		out = append(out, bp)
	}
	return out
}

// policies decodes x-apigateway-backend-policies; their type must suit
// the default backend.
func (c *converter) policies(p string, v any, a *apigwv1.Api) {
	l, ok := v.([]any)
	if !ok {
		c.ps.errorf(p, "must be an array (got %s)", typeName(v))
		return
	}
	for i, raw := range l {
		pp := ptr(p, i)
		o, ok := asObj(c.ps, pp, raw)
		if !ok {
			continue
		}
		typ := o.enum([]string{"type"}, typeHTTP, typeHTTPVPC, typeFunction, typeMock, typeMemberGroup)
		field := map[string]string{typeHTTP: fmt.Sprintf("policy_https[%d]", len(a.PolicyHttps)), typeHTTPVPC: fmt.Sprintf("policy_https[%d]", len(a.PolicyHttps)),
			typeMemberGroup: fmt.Sprintf("policy_https[%d]", len(a.PolicyHttps)),
			typeFunction:    fmt.Sprintf("policy_functions[%d]", len(a.PolicyFunctions)), typeMock: fmt.Sprintf("policy_mocks[%d]", len(a.PolicyMocks))}[typ]
		if field == "" {
			field = "policy"
		}
		c.recKeys(field, o, keys("name", "name"), keys("effect_mode", "effectMode", "effect_mode"), keys("authorizer_id", "authorizer"))
		name := o.str("name")
		effect := o.enum([]string{"effectMode", "effect_mode"}, model.EffectAny, model.EffectAll)
		conds := c.conditions(o, field+".conditions")
		params := c.backendParams(o, field+".backend_params")
		authz := c.authorizerRef(o, o.str("authorizer"))
		want := map[string]string{typeHTTP: model.BackendHTTP, typeHTTPVPC: model.BackendHTTP, typeMemberGroup: model.BackendHTTP, typeFunction: model.BackendFunction, typeMock: model.BackendMock}[typ]
		if typ != "" && want != "" && a.BackendType != "" && want != a.BackendType {
			c.ps.errorf(ptr(pp, "type"), "a %s policy backend cannot go with a %s default backend (HTTP and HTTP-VPC go together, FUNCTION and MOCK only with their own kind)", typ, a.BackendType)
		}
		switch typ {
		case typeHTTP, typeHTTPVPC, typeMemberGroup:
			t := c.httpEndpoints(o, typ, field)
			a.PolicyHttps = append(a.PolicyHttps, &apigwv1.PolicyHttp{Name: name, EffectMode: effect, Conditions: conds, BackendParams: params,
				ReqProtocol: t.protocol, ReqMethod: t.method, ReqUri: t.uri, Timeout: t.timeout, RetryCount: t.retry, UrlDomain: t.domain,
				VpcChannelInfo: t.channel, EnableClientSsl: t.clientSSL, AuthorizerId: authz, VpcChannelStatus: t.channelStatus(), MemberGroupUrlInfos: t.groups})
		case typeFunction:
			if f := o.object("functionEndpoints"); f != nil {
				pf := c.function(f, field)
				pf.Name, pf.EffectMode, pf.Conditions, pf.BackendParams, pf.AuthorizerId = name, effect, conds, params, authz
				f.used["description"] = true
				f.unknown("functionEndpoints")
				a.PolicyFunctions = append(a.PolicyFunctions, pf)
			} else {
				c.ps.errorf(pp, "functionEndpoints is required for a FUNCTION policy backend")
			}
		case typeMock:
			pm := &apigwv1.PolicyMock{}
			if m := o.object("mockEndpoints"); m != nil {
				pm = c.mock(m, field)
				m.used["description"] = true
				m.unknown("mockEndpoints")
			}
			pm.Name, pm.EffectMode, pm.Conditions, pm.BackendParams, pm.AuthorizerId = name, effect, conds, params, authz
			a.PolicyMocks = append(a.PolicyMocks, pm)
		case "":
			c.ps.errorf(pp, "type is required: HTTP, HTTP-VPC, HTTP-VPC-MEMBER-GROUP, FUNCTION or MOCK")
		}
		o.unknown("a backend policy")
	}
}

// conditions accepts both spellings found in APIG documents
// (docs/apig-semantics.md#openapi-extensions): the extension
// page's (type equal|enum|pattern, origin request|source) and the export's
// (type exact|enum|pattern or "", origin param|source|system|cookie).
func (c *converter) conditions(o *obj, field string) []*apigwv1.Condition {
	l, lp := o.list("conditions")
	c.rec(field, o.at("conditions"))
	if l == nil {
		c.ps.errorf(o.ptr, "conditions are required")
	}
	var out []*apigwv1.Condition
	for i, v := range l {
		co, ok := asObj(c.ps, ptr(lp, i), v)
		if !ok {
			continue
		}
		cd := &apigwv1.Condition{ConditionValue: co.str("value", "condition_value")}
		c.recKeys(fmt.Sprintf("%s[%d]", field, len(out)), co, keys("condition_value", "value", "condition_value"), keys("condition_type", "type", "condition_type"),
			keys("condition_origin", "origin", "condition_origin"))
		switch t := strings.ToLower(co.str("type", "condition_type")); t {
		case "equal", "exact":
			cd.ConditionType = model.CondExact
		case "enum", "pattern":
			cd.ConditionType = t
		case "":
		default:
			k, _, _ := co.key("type", "condition_type")
			c.ps.errorf(ptr(co.ptr, k), "must be equal (exact), enum or pattern (got %q)", t)
		}
		name := co.str("parameter", "parameter_name", "param_name", "req_param_name", "sys_param_name", "cookie_param_name", "frontend_authorizer_param_name")
		switch orig := strings.ToLower(co.str("origin", "condition_origin")); orig {
		case "request", "param":
			cd.ConditionOrigin, cd.ReqParamName = model.CondParam, name
		case "source":
			cd.ConditionOrigin = model.CondSource
			cd.ConditionType = ""
		case "system":
			cd.ConditionOrigin, cd.SysParamName = model.CondSystem, name
		case "cookie":
			cd.ConditionOrigin, cd.CookieParamName = model.CondCookie, name
		case "frontend_authorizer":
			cd.ConditionOrigin, cd.FrontendAuthorizerParamName = model.CondFrontendAuthorizer, name
		case "orchestration":
			cd.ConditionOrigin = model.CondParam
			cd.MappedParamName = co.str("mapped_param_name")
			cd.MappedParamLocation = strings.ToLower(co.str("mapped_param_location"))
			cd.ReqParamName = name
		default:
			k, _, _ := co.key("origin", "condition_origin")
			c.ps.errorf(ptr(co.ptr, k), "must be request (param), source, system, cookie or frontend_authorizer (got %q)", orig)
		}
		co.unknown("a condition")
		out = append(out, cd)
	}
	return out
}

// timeout reads an endpoint's timeout in ms. 0 is not "unset" (APIG's
// range starts at 1): it is refused; an absent or empty timeout is unset.
func (c *converter) timeout(o *obj) int32 {
	n, ok := o.num("timeout")
	if !ok {
		return 0
	}
	if n < 1 {
		k, _, _ := o.key("timeout")
		c.ps.errorf(ptr(o.ptr, k), "must be at least 1 (ms); omit it for the default (got %d)", n)
		return 0
	}
	return int32(n)
}
