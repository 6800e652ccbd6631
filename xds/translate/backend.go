package translate

import (
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"

	"github.com/apigw/apigw/model"
)

// httpBackend is the common shape of an API's default HTTP backend and of
// its HTTP policy backends.
type httpBackend struct {
	protocol, method, uri, urlDomain string
	channelID, proxyHost             string
	authorizerID                     string
	timeout                          int32
	retry                            *int32
	clientSSL                        bool
	params                           []*apigwv1.BackendParam
	// function: the backend is the function component serving the API's
	// FUNCTION backend (functionBackend) or, with functionPolicy, one of
	// its FUNCTION policy backends (policyFunctionBackend).
	function       bool
	functionPolicy string
	// groups: the member-group URLs of a backend with vpc_channel_status
	// 4; group: the member group one of its targets calls.
	groups []*apigwv1.MemberGroupUrlInfo
	group  *apigwv1.MemberGroup
}

func (b httpBackend) usesChannel() bool { return b.channelID != "" }

func defaultHTTPBackend(api *apigwv1.Api) *httpBackend {
	b := api.GetBackendApi()
	if b == nil {
		return nil
	}
	out := &httpBackend{
		protocol: b.ReqProtocol, method: b.ReqMethod, uri: b.ReqUri, urlDomain: b.UrlDomain,
		authorizerID: b.AuthorizerId, timeout: b.Timeout, retry: b.RetryCount,
		clientSSL: b.EnableClientSsl, params: api.BackendParams,
	}
	if b.VpcChannelStatus == model.ChannelOn || b.VpcChannelStatus == model.ChannelMemberGroups {
		out.channelID = b.GetVpcChannelInfo().GetVpcChannelId()
		out.proxyHost = b.GetVpcChannelInfo().GetVpcChannelProxyHost()
	}
	if b.VpcChannelStatus == model.ChannelMemberGroups {
		out.groups = b.MemberGroupUrlInfos
	}
	return out
}

func policyHTTPBackend(p *apigwv1.PolicyHttp) *httpBackend {
	out := &httpBackend{
		protocol: p.ReqProtocol, method: p.ReqMethod, uri: p.ReqUri, urlDomain: p.UrlDomain,
		authorizerID: p.AuthorizerId, timeout: p.Timeout, retry: p.RetryCount,
		clientSSL: p.EnableClientSsl, params: p.BackendParams,
	}
	if p.VpcChannelStatus == model.ChannelOn || p.VpcChannelStatus == model.ChannelMemberGroups {
		out.channelID = p.GetVpcChannelInfo().GetVpcChannelId()
		out.proxyHost = p.GetVpcChannelInfo().GetVpcChannelProxyHost()
	}
	if p.VpcChannelStatus == model.ChannelMemberGroups {
		out.groups = p.MemberGroupUrlInfos
	}
	return out
}

// mockBackend is a mock default backend or mock policy backend.
type mockBackend struct {
	status       int32
	body         string
	headers      []*apigwv1.MockHeader
	authorizerID string
}

// policy is one policy backend of an API, of any type.
type policy struct {
	name       string
	effect     string
	conditions []*apigwv1.Condition
	http       *httpBackend
	mock       *mockBackend
	params     []*apigwv1.BackendParam
}

// policies lists an API's policy backends in evaluation order (HTTP,
// FUNCTION, mock: the order ext_authz evaluates them in). functionsAddr
// is the function component's address.
func policies(api *apigwv1.Api, functionsAddr string) []policy {
	var out []policy
	for _, p := range api.PolicyHttps {
		out = append(out, policy{name: p.Name, effect: p.EffectMode, conditions: p.Conditions, http: policyHTTPBackend(p), params: p.BackendParams})
	}
	for _, p := range api.PolicyFunctions {
		out = append(out, policy{name: p.Name, effect: p.EffectMode, conditions: p.Conditions, http: policyFunctionBackend(api, p, functionsAddr), params: p.BackendParams})
	}
	for _, p := range api.PolicyMocks {
		out = append(out, policy{name: p.Name, effect: p.EffectMode, conditions: p.Conditions, params: p.BackendParams,
			mock: &mockBackend{status: p.StatusCode, body: p.ResultContent, headers: p.Headers, authorizerID: p.AuthorizerId}})
	}
	return out
}

// reqParam returns the declared request parameter with a name.
func reqParam(api *apigwv1.Api, name string) *apigwv1.ReqParam {
	for _, p := range api.ReqParams {
		if p.Name == name {
			return p
		}
	}
	return nil
}
