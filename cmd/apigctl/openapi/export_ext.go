package openapi

import (
	"strconv"
	"strings"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Security scheme names of exported documents.
const (
	schemeApp       = "apig-auth-app"
	schemeAppHeader = "apig-auth-app-header"
	schemeIAM       = "apig-auth-iam"
)

// names maps the ids an API refers to onto names.
type names struct {
	channels map[string]string
	// groups: member group names by (channel id, member group id).
	groups      map[[2]string]string
	authorizers map[string]*apigwv1.Authorizer
	responses   map[string]string
}

func (n *names) authorizer(id string) string {
	if a := n.authorizers[id]; a != nil {
		return a.Name
	}
	return id
}

func (n *names) channel(id string) string {
	if c, ok := n.channels[id]; ok {
		return c
	}
	return id
}

// securityOf returns the security requirement of an API (nil for NONE).
func securityOf(a *apigwv1.Api, n *names) map[string][]string {
	req := map[string][]string{}
	switch a.AuthType {
	case model.AuthApp:
		if a.GetAuthOpt().GetAppCodeAuthType() == model.AppCodeHeader {
			req[schemeAppHeader] = []string{}
		} else {
			req[schemeApp] = []string{}
		}
	case model.AuthIAM:
		req[schemeIAM] = []string{}
	}
	if a.AuthorizerId != "" {
		req[n.authorizer(a.AuthorizerId)] = []string{}
	}
	if len(req) == 0 {
		return nil
	}
	return req
}

// schemeExt returns the extensions of a security scheme.
func schemeExt(name string, n *names) (header string, ext map[string]any) {
	switch name {
	case schemeApp:
		return "Authorization", map[string]any{extAuthType: "AppSigv1"}
	case schemeAppHeader:
		return "Authorization", map[string]any{extAuthType: "AppSigv1", extAuthOpt: map[string]any{"appcode-auth-type": "header"}}
	case schemeIAM:
		return "unused", map[string]any{extAuthType: "IAM"}
	}
	for _, a := range n.authorizers {
		if a.Name == name {
			ext = map[string]any{extAuthorizer: authorizerExt(a)}
			if a.Type == model.AuthorizerFrontend {
				ext[extAuthType] = "AUTHORIZER"
			}
			return "unused", ext
		}
	}
	return "unused", nil
}

func authorizerExt(a *apigwv1.Authorizer) map[string]any {
	m := map[string]any{"type": a.Type, "authorizer_type": a.AuthorizerType, "authorizer_uri": a.AuthorizerUri,
		"network_type": a.NetworkType, "ttl": a.Ttl, "need_body": a.NeedBody, "auth_downgrade_enabled": a.AuthDowngradeEnabled, "timeout": a.Timeout}
	setStr(m, "authorizer_version", a.AuthorizerVersion)
	setStr(m, "authorizer_alias_uri", a.AuthorizerAliasUri)
	setStr(m, "user_data", a.UserData)
	setStr(m, "remark", a.Remark)
	var ids []any
	for _, id := range a.Identities {
		im := map[string]any{"name": id.Name, "location": id.Location}
		setStr(im, "validation", id.Validation)
		ids = append(ids, im)
	}
	if len(ids) > 0 {
		m["identities"] = ids
	}
	return m
}

func setStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// operationExt returns the x-apigateway-* extensions of an API's operation.
func operationExt(a *apigwv1.Api, n *names, throttle, acl string) map[string]any {
	ext := map[string]any{
		extRequestType: map[int32]string{1: "public", 2: "private"}[a.Type],
		extMatchMode:   a.MatchMode,
		extCors:        a.Cors,
		extFgBase64:    a.GetIsSendFgBodyBase64(),
		extBackend:     backendExt(a, n),
	}
	setStr(ext, extContentType, a.ContentType)
	setStr(ext, extRatelimit, throttle)
	setStr(ext, extACL, acl)
	if a.ResponseId != "" {
		name := a.ResponseId
		if r, ok := n.responses[a.ResponseId]; ok {
			name = r
		}
		ext[extResponse] = name
	}
	var pols []any
	for _, p := range a.PolicyHttps {
		m := policyHead(p.Name, p.EffectMode, p.Conditions, p.BackendParams, p.AuthorizerId, n)
		typ, key, ep := httpExt(httpTarget{protocol: p.ReqProtocol, method: p.ReqMethod, uri: p.ReqUri, domain: p.UrlDomain, timeout: p.Timeout,
			retry: p.RetryCount, clientSSL: p.EnableClientSsl, channel: p.VpcChannelInfo, groups: p.MemberGroupUrlInfos}, p.VpcChannelStatus, n)
		m["type"], m[key] = typ, ep
		pols = append(pols, m)
	}
	for _, p := range a.PolicyFunctions {
		m := policyHead(p.Name, p.EffectMode, p.Conditions, p.BackendParams, p.AuthorizerId, n)
		m["type"], m["functionEndpoints"] = typeFunction, functionExt(p.FunctionUrn, p.Version, p.AliasUrn, p.InvocationType, p.NetworkType, "", p.Timeout)
		pols = append(pols, m)
	}
	for _, p := range a.PolicyMocks {
		m := policyHead(p.Name, p.EffectMode, p.Conditions, p.BackendParams, p.AuthorizerId, n)
		m["type"], m["mockEndpoints"] = typeMock, mockExt(p.ResultContent, p.StatusCode, p.Headers, "")
		pols = append(pols, m)
	}
	if len(pols) > 0 {
		ext[extPolicies] = pols
	}
	return ext
}

func policyHead(name, effect string, conds []*apigwv1.Condition, params []*apigwv1.BackendParam, authz string, n *names) map[string]any {
	m := map[string]any{"name": name, "effectMode": effect}
	var cs []any
	for _, c := range conds {
		cm := map[string]any{"origin": c.ConditionOrigin, "value": c.ConditionValue}
		setStr(cm, "type", c.ConditionType)
		for _, p := range []string{c.ReqParamName, c.SysParamName, c.CookieParamName, c.FrontendAuthorizerParamName} {
			setStr(cm, "parameter", p)
		}
		setStr(cm, "mapped_param_name", c.MappedParamName)
		setStr(cm, "mapped_param_location", c.MappedParamLocation)
		cs = append(cs, cm)
	}
	m["conditions"] = cs
	if ps := paramsExt(params); ps != nil {
		m["parameters"] = ps
	}
	if authz != "" {
		m["authorizer"] = n.authorizer(authz)
	}
	return m
}

func backendExt(a *apigwv1.Api, n *names) map[string]any {
	m := map[string]any{}
	if ps := paramsExt(a.BackendParams); ps != nil {
		m["parameters"] = ps
	}
	authz := ""
	switch a.BackendType {
	case model.BackendHTTP:
		b := a.GetBackendApi()
		typ, key, ep := httpExt(httpTarget{protocol: b.GetReqProtocol(), method: b.GetReqMethod(), uri: b.GetReqUri(), domain: b.GetUrlDomain(),
			timeout: b.GetTimeout(), retry: b.RetryCount, clientSSL: b.GetEnableClientSsl(), channel: b.GetVpcChannelInfo(), remark: b.GetRemark(),
			groups: b.GetMemberGroupUrlInfos()}, b.GetVpcChannelStatus(), n)
		m["type"], m[key] = typ, ep
		authz = b.GetAuthorizerId()
	case model.BackendFunction:
		f := a.GetFuncInfo()
		m["type"] = typeFunction
		m["functionEndpoints"] = functionExt(f.GetFunctionUrn(), f.GetVersion(), f.GetAliasUrn(), f.GetInvocationType(), f.GetNetworkType(), f.GetRemark(), f.GetTimeout())
		authz = f.GetAuthorizerId()
	case model.BackendMock:
		mi := a.GetMockInfo()
		m["type"] = typeMock
		m["mockEndpoints"] = mockExt(mi.GetResultContent(), mi.GetStatusCode(), mi.GetHeaders(), mi.GetRemark())
		authz = mi.GetAuthorizerId()
	}
	if authz != "" {
		m["authorizer"] = n.authorizer(authz)
	}
	return m
}

func httpExt(t httpTarget, channelStatus int32, n *names) (typ, key string, ep map[string]any) {
	ep = map[string]any{"scheme": strings.ToLower(t.protocol), "method": t.method, "path": t.uri, "timeout": t.timeout, "enableClientSsl": t.clientSSL}
	if t.retry != nil {
		ep["retryCount"] = strconv.Itoa(int(*t.retry))
	}
	setStr(ep, "description", t.remark)
	if channelStatus == model.ChannelMemberGroups {
		return typeMemberGroup, "httpVpcMemberGroupEndpoints", memberGroupExt(t, ep, n)
	}
	if channelStatus == model.ChannelOn {
		ep["name"] = n.channel(t.channel.GetVpcChannelId())
		setStr(ep, "host", t.channel.GetVpcChannelProxyHost())
		return typeHTTPVPC, "httpVpcEndpoints", ep
	}
	ep["address"] = t.domain
	return typeHTTP, "httpEndpoints", ep
}

// memberGroupExt is httpVpcMemberGroupEndpoints: the channel and, per
// member group, its URL (docs/apig-semantics.md#member-group-backends).
// The backend's own method and path are the defaults of the group URLs;
// they are exported only when set (a path) and written into every group.
func memberGroupExt(t httpTarget, ep map[string]any, n *names) map[string]any {
	delete(ep, "scheme")
	delete(ep, "method")
	delete(ep, "path")
	ep["name"] = n.channel(t.channel.GetVpcChannelId())
	setStr(ep, "host", t.channel.GetVpcChannelProxyHost())
	urls := make([]any, 0, len(t.groups))
	for _, u := range t.groups {
		name := u.MemberGroupName
		if name == "" {
			name = u.MemberGroupId
			if g, ok := n.groups[[2]string{t.channel.GetVpcChannelId(), u.MemberGroupId}]; ok {
				name = g
			}
		}
		uri := u.ReqUri
		if uri == "" {
			uri = t.uri
		}
		urls = append(urls, map[string]any{"name": name, "scheme": strings.ToLower(u.ReqProtocol), "method": u.ReqMethod, "path": uri})
	}
	ep["memberGroupUrlInfos"] = urls
	return ep
}

func functionExt(urn, version, alias, invocation, network, remark string, timeout int32) map[string]any {
	m := map[string]any{"function-urn": urn, "invocation-type": invocation, "network-type": network, "timeout": timeout}
	setStr(m, "version", version)
	setStr(m, "alias-urn", alias)
	setStr(m, "description", remark)
	return m
}

func mockExt(body string, status int32, headers []*apigwv1.MockHeader, remark string) map[string]any {
	m := map[string]any{"result-content": body}
	if status != 0 && status != 200 {
		m["status-code"] = status
	}
	var hs []any
	for _, h := range headers {
		hm := map[string]any{"key": h.Key, "value": h.Value}
		setStr(hm, "remark", h.Remark)
		hs = append(hs, hm)
	}
	if len(hs) > 0 {
		m["headers"] = hs
	}
	setStr(m, "description", remark)
	return m
}

func paramsExt(ps []*apigwv1.BackendParam) []any {
	var out []any
	for _, p := range ps {
		m := map[string]any{"name": p.Name, "value": p.Value, "in": p.Location, "origin": p.Origin}
		setStr(m, "description", p.Remark)
		if p.Origin == model.OriginSystem && p.SystemParamType != "" && p.SystemParamType != model.SysParamInternal {
			m["system_param_type"] = p.SystemParamType
		}
		out = append(out, m)
	}
	return out
}

func throttleExt(t *apigwv1.Throttle) map[string]any {
	m := map[string]any{"api-limit": t.ApiCallLimits, "interval": t.TimeInterval, "unit": t.TimeUnit, "shared": t.Type == model.ThrottleShared}
	for k, v := range map[string]int32{"user-limit": t.UserCallLimits, "app-limit": t.AppCallLimits, "ip-limit": t.IpCallLimits} {
		if v != 0 {
			m[k] = v
		}
	}
	setStr(m, "description", t.Remark)
	var sp []any
	for _, s := range t.Specials {
		sp = append(sp, map[string]any{"type": s.ObjectType, "limit": s.CallLimits, "instance": s.ObjectId})
	}
	if len(sp) > 0 {
		m["special"] = sp
	}
	return m
}

func aclExt(a *apigwv1.Acl) map[string]any {
	m := map[string]any{"acl-type": a.AclType, "entity-type": a.EntityType, "value": a.AclValue}
	setStr(m, "description", a.Remark)
	return m
}

func responsesExt(sets []*apigwv1.GatewayResponse) map[string]any {
	out := map[string]any{}
	for _, s := range sets {
		types := map[string]any{}
		for typ, r := range s.Responses {
			m := map[string]any{}
			if r.Status != 0 {
				m["status"] = r.Status
			}
			if r.Body != "" {
				m["body"] = map[string]any{"application/json": r.Body}
			}
			if len(r.Headers) > 0 {
				h := map[string]any{}
				for _, x := range r.Headers {
					h[x.Key] = x.Value
				}
				m["headers"] = h
			}
			types[typ] = m
		}
		out[s.Name] = types
	}
	return out
}
