package model

import (
	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Normalize fills the defaults of a definition in place, so that stored
// objects and every consumer see explicit values. It is idempotent.
func Normalize(m proto.Message) {
	switch v := m.(type) {
	case *apigwv1.ApiGroup:
		if v.SlDomainAccessEnabled == nil {
			v.SlDomainAccessEnabled = proto.Bool(true)
		}
		for _, d := range v.UrlDomains {
			def(&d.MinSslVersion, TLS12)
		}
	case *apigwv1.Api:
		normalizeAPI(v)
	case *apigwv1.VpcChannel:
		normalizeChannel(v)
	case *apigwv1.Throttle:
		def(&v.TimeUnit, UnitMinute)
		defInt(&v.Type, ThrottleExclusive)
	case *apigwv1.App:
		defInt(&v.Status, 1)
	case *apigwv1.Plugin:
		def(&v.PluginScope, PluginScopeGlobal)
		splitPluginSecret(v)
	case *apigwv1.Authorizer:
		def(&v.AuthorizerType, "FUNC")
		def(&v.NetworkType, "V1")
		defInt(&v.Timeout, DefaultAuthorizerTimeout)
	}
}

func normalizeAPI(a *apigwv1.Api) {
	defInt(&a.Type, 1)
	def(&a.ReqProtocol, ProtoHTTPS)
	def(&a.MatchMode, MatchNormal)
	def(&a.AuthType, AuthNone)
	def(&a.BackendType, BackendHTTP)
	if a.AuthOpt == nil {
		a.AuthOpt = &apigwv1.AuthOpt{}
	}
	def(&a.AuthOpt.AppCodeAuthType, AppCodeDisable)
	if a.IsSendFgBodyBase64 == nil {
		a.IsSendFgBodyBase64 = proto.Bool(true)
	}
	declarePathParams(a)
	for _, p := range a.ReqParams {
		def(&p.Type, TypeString)
		if p.Required == 0 {
			p.Required = No
			if p.Location == LocPath {
				p.Required = Yes
			}
		}
		defInt(&p.ValidEnable, No)
		defInt(&p.PassThrough, Yes)
	}
	normalizeBackendParams(a.BackendParams)
	switch a.BackendType {
	case BackendHTTP:
		if a.BackendApi != nil {
			b := a.BackendApi
			groupURLStatus(&b.VpcChannelStatus, b.MemberGroupUrlInfos)
			normalizeHTTP(&b.ReqProtocol, &b.ReqMethod, &b.Timeout, &b.RetryCount, &b.VpcChannelStatus, b.VpcChannelInfo, a.ReqMethod)
			normalizeGroupURLs(a, b.ReqProtocol, b.ReqMethod, b.ReqUri, b.MemberGroupUrlInfos, &a.BackendParams)
			mapPathParams(a, b.ReqUri, &a.BackendParams)
		}
	case BackendMock:
		if a.MockInfo == nil {
			a.MockInfo = &apigwv1.MockInfo{}
		}
		defInt(&a.MockInfo.StatusCode, 200)
	case BackendFunction:
		if a.FuncInfo != nil {
			def(&a.FuncInfo.InvocationType, "sync")
			def(&a.FuncInfo.NetworkType, "V1")
			defInt(&a.FuncInfo.Timeout, DefaultBackendTimeout)
		}
	}
	for _, p := range a.PolicyHttps {
		def(&p.EffectMode, EffectAny)
		groupURLStatus(&p.VpcChannelStatus, p.MemberGroupUrlInfos)
		normalizeHTTP(&p.ReqProtocol, &p.ReqMethod, &p.Timeout, &p.RetryCount, &p.VpcChannelStatus, p.VpcChannelInfo, a.ReqMethod)
		normalizeGroupURLs(a, p.ReqProtocol, p.ReqMethod, p.ReqUri, p.MemberGroupUrlInfos, &p.BackendParams)
		normalizeBackendParams(p.BackendParams)
		mapPathParams(a, p.ReqUri, &p.BackendParams)
	}
	for _, p := range a.PolicyFunctions {
		def(&p.EffectMode, EffectAny)
		def(&p.InvocationType, "sync")
		def(&p.NetworkType, "V1")
		defInt(&p.Timeout, DefaultBackendTimeout)
		normalizeBackendParams(p.BackendParams)
	}
	for _, p := range a.PolicyMocks {
		def(&p.EffectMode, EffectAny)
		defInt(&p.StatusCode, 200)
		normalizeBackendParams(p.BackendParams)
	}
}

func normalizeHTTP(proto_, method *string, timeout *int32, retry **int32, chStatus *int32, ch *apigwv1.VpcChannelInfo, frontMethod string) {
	def(proto_, ProtoHTTPS)
	def(method, frontMethod)
	defInt(timeout, DefaultBackendTimeout)
	if *retry == nil {
		*retry = proto.Int32(-1)
	}
	if *chStatus == 0 {
		*chStatus = ChannelOff
		if ch.GetVpcChannelId() != "" {
			*chStatus = ChannelOn
		}
	}
}

// groupURLStatus: a backend listing member-group URLs without a
// vpc_channel_status uses 4 (docs/apig-semantics.md#member-group-backends).
func groupURLStatus(status *int32, urls []*apigwv1.MemberGroupUrlInfo) {
	if len(urls) > 0 && *status == 0 {
		*status = ChannelMemberGroups
	}
}

// normalizeGroupURLs defaults each member-group URL's protocol, method and
// path to the backend's; their path variables map like req_uri's.
func normalizeGroupURLs(a *apigwv1.Api, protocol, method, uri string, urls []*apigwv1.MemberGroupUrlInfo, params *[]*apigwv1.BackendParam) {
	for _, u := range urls {
		def(&u.ReqProtocol, protocol)
		def(&u.ReqMethod, method)
		def(&u.ReqUri, uri)
		mapPathParams(a, u.ReqUri, params)
	}
}

func normalizeBackendParams(ps []*apigwv1.BackendParam) {
	for _, p := range ps {
		if p.Origin == OriginSystem {
			def(&p.SystemParamType, SysParamInternal)
		}
	}
}

// declarePathParams declares, as required STRING PATH parameters, the
// frontend path variables that have no declaration (as APIG's console does).
func declarePathParams(a *apigwv1.Api) {
	t, err := ParseFrontendPath(a.ReqUri)
	if err != nil {
		return
	}
	for _, name := range t.Params() {
		found := false
		for _, p := range a.ReqParams {
			if p.Location == LocPath && p.Name == name {
				found = true
				break
			}
		}
		if !found {
			a.ReqParams = append(a.ReqParams, &apigwv1.ReqParam{Name: name, Type: TypeString, Location: LocPath, Required: Yes})
		}
	}
}

// mapPathParams maps backend path placeholders that have no backend
// parameter from the frontend PATH parameter of the same name.
func mapPathParams(a *apigwv1.Api, backendURI string, params *[]*apigwv1.BackendParam) {
	for _, name := range BackendPathParams(backendURI) {
		found := false
		for _, p := range *params {
			if p.Location == LocPath && p.Name == name {
				found = true
				break
			}
		}
		if found {
			continue
		}
		for _, rp := range a.ReqParams {
			if rp.Location == LocPath && rp.Name == name {
				*params = append(*params, &apigwv1.BackendParam{Name: name, Location: LocPath, Origin: OriginRequest, Value: name})
				break
			}
		}
	}
}

func normalizeChannel(c *apigwv1.VpcChannel) {
	defInt(&c.BalanceStrategy, StrategyWRR)
	def(&c.MemberType, "ip")
	def(&c.Type, "builtin")
	for _, m := range c.Members {
		defInt(&m.Status, 1)
	}
	if h := c.VpcHealthConfig; h != nil {
		def(&h.Protocol, "TCP")
		if h.Protocol != "TCP" {
			def(&h.Method, "GET")
		}
		defInt(&h.ThresholdNormal, 2)
		defInt(&h.ThresholdAbnormal, 5)
		defInt(&h.TimeInterval, 10)
		defInt(&h.Timeout, 5)
		defInt(&h.Status, 1)
	}
}

func def(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func defInt(i *int32, v int32) {
	if *i == 0 {
		*i = v
	}
}
