package translate

import (
	"time"

	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// maxSignedBody is the body size ext_authz receives for APP signatures
// (APIG hashes bodies up to 12 MB).
const maxSignedBody = 12 << 20

// extAuthzNeeded reports whether anything on a publication's routes must be
// checked by ext_authz: authentication, authorizers, parameter validation
// and orchestration, parameters or paths ext_authz computes, policy
// conditions it evaluates, throttling dimensions whose subject it supplies
// (including the rule of a rate_limit plug-in, which it selects) and
// account ACLs. Only routes where none applies run without it.
func extAuthzNeeded(api *apigwv1.Api, dims []string, acls []*apigwv1.Acl, delegated bool) bool {
	if delegated || api.AuthType != model.AuthNone || api.AuthorizerId != "" {
		return true
	}
	// ext_authz changes the method of requests to a backend called with
	// another method (docs/apig-semantics.md#backend-method).
	if api.BackendType == model.BackendHTTP && model.BackendMethodChange(api.ReqMethod, api.GetBackendApi().GetReqMethod()) != "" {
		return true
	}
	for _, p := range api.PolicyHttps {
		if model.BackendMethodChange(api.ReqMethod, p.ReqMethod) != "" {
			return true
		}
	}
	if api.GetBackendApi().GetAuthorizerId() != "" || api.GetMockInfo().GetAuthorizerId() != "" {
		return true
	}
	for _, p := range api.PolicyHttps {
		if p.AuthorizerId != "" {
			return true
		}
	}
	for _, p := range api.ReqParams {
		if (p.Required == model.Yes && p.Location != model.LocPath) || p.ValidEnable == model.Yes ||
			p.DefaultValue != "" || p.PassThrough == model.No || len(p.Orchestrations) > 0 {
			return true
		}
	}
	for _, d := range dims {
		if d != dataplane.RateLimitDimAPI {
			return true
		}
	}
	for _, a := range acls {
		if a.EntityType != model.EntityIP {
			return true
		}
	}
	return false
}

// bodyNeeded reports whether ext_authz needs the request body: APP
// signatures hash it, and authorizers may ask for it.
func bodyNeeded(v *inputs.View, api *apigwv1.Api) bool {
	if api.AuthType == model.AuthApp {
		return true
	}
	return api.AuthorizerId != "" && v.Authorizer(api.AuthorizerId).GetNeedBody()
}

// authorizerTimeout is the Check deadline of routes whose API calls a
// custom authorizer (0 = the filter default).
func authorizerTimeout(v *inputs.View, api *apigwv1.Api, backendAuthorizer string) time.Duration {
	var ms int32
	for _, id := range []string{api.AuthorizerId, backendAuthorizer} {
		if a := v.Authorizer(id); a != nil && a.Timeout > ms {
			ms = a.Timeout
		}
	}
	if ms == 0 {
		return 0
	}
	return time.Duration(ms)*time.Millisecond + time.Second
}

// extAuthzRoute is the per-route ext_authz config: the context extensions
// that tell ext_authz which instance, group, API, environment, publication
// and policy backend the request hit.
func extAuthzRoute(inst string, pub *apigwv1.Publication, policyName string, body bool, timeout time.Duration) *extauthzv3.ExtAuthzPerRoute {
	ext := map[string]string{
		dataplane.ExtAuthzCtxInstance:    inst,
		dataplane.ExtAuthzCtxGroup:       pub.GetApi().GetGroupId(),
		dataplane.ExtAuthzCtxAPI:         pub.ApiId,
		dataplane.ExtAuthzCtxEnv:         pub.EnvId,
		dataplane.ExtAuthzCtxPublication: pub.Id,
	}
	if policyName != "" {
		ext[dataplane.ExtAuthzCtxPolicy] = policyName
	}
	cs := &extauthzv3.CheckSettings{ContextExtensions: ext}
	if body {
		cs.WithRequestBody = &extauthzv3.BufferSettings{MaxRequestBytes: maxSignedBody, AllowPartialMessage: true, PackAsBytes: true}
	}
	if timeout > 0 {
		cs.ServiceOverride = &extauthzv3.CheckSettings_GrpcService{GrpcService: grpcService(ClusterExtAuthz, timeout)}
	}
	return &extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{CheckSettings: cs}}
}

func extAuthzDisabled() *extauthzv3.ExtAuthzPerRoute {
	return &extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_Disabled{Disabled: true}}
}
