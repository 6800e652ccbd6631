package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// functionBackend is an API's FUNCTION backend as Envoy sees it: the
// function component, called with the client's method and path (the
// component builds the function-trigger event from them), within the
// function's timeout and never retried (an async call must not run
// twice).
func functionBackend(api *apigwv1.Api, addr string) *httpBackend {
	fi := api.GetFuncInfo()
	zero := int32(0)
	return &httpBackend{protocol: model.ProtoHTTP, uri: api.ReqUri, urlDomain: addr, timeout: fi.GetTimeout(),
		retry: &zero, authorizerID: fi.GetAuthorizerId(), params: api.BackendParams, function: true}
}

// policyFunctionBackend is a FUNCTION policy backend as Envoy sees it:
// the function component, like the default FUNCTION backend, with the
// policy's timeout, backend authorizer and parameters; the route names
// the policy (functionHeaders) so that the component calls its function.
func policyFunctionBackend(api *apigwv1.Api, p *apigwv1.PolicyFunction, addr string) *httpBackend {
	zero := int32(0)
	return &httpBackend{protocol: model.ProtoHTTP, uri: api.ReqUri, urlDomain: addr, timeout: p.Timeout,
		retry: &zero, authorizerID: p.AuthorizerId, params: p.BackendParams, function: true, functionPolicy: p.Name}
}

// functionHeaders tell the function component which instance, API,
// environment and FUNCTION backend (policy name, empty for the default
// backend) a request is for, overwriting any the client sent: a client
// cannot pick a policy's function on the default backend's route.
func functionHeaders(instance, apiID, envID, policy string) []*corev3.HeaderValueOption {
	var out []*corev3.HeaderValueOption
	for _, h := range [][2]string{
		{dataplane.FunctionInstanceHeader, instance},
		{dataplane.FunctionAPIHeader, apiID},
		{dataplane.FunctionEnvHeader, envID},
		{dataplane.FunctionPolicyHeader, policy},
	} {
		out = append(out, &corev3.HeaderValueOption{
			Header:         &corev3.HeaderValue{Key: h[0], Value: h[1]},
			AppendAction:   corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
			KeepEmptyValue: h[1] == "",
		})
	}
	return out
}
