package translate

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// systemHeaderValues are the system parameters a route can set natively,
// as Envoy formatter expressions (values that depend on the API or the
// environment are filled in by nativeHeaders). Each must equal what
// ext_authz computes for the same parameter in a query or a path: the
// server name is ext_authz's (--server-name), not the Envoy host's, so it
// is left to ext_authz; the client IP only when Envoy knows it (see
// envoyKnowsClientIP).
var systemHeaderValues = map[string]string{
	"sourceIp":   "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
	"requestId":  "%REQ(X-REQUEST-ID)%",
	"serverAddr": "%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%",
	"appId":      "%DYNAMIC_METADATA(" + dataplane.ExtAuthzMetadataNamespace + ":" + dataplane.ExtAuthzMetaAppID + ")%",
}

// nativeHeaders returns the backend parameters a route applies itself:
// HEADER parameters that are constants, system parameters Envoy knows, or
// copies of a request header or query parameter. Everything else (QUERY
// parameters, authorizer context, path variables into headers, parameters
// whose source must not be passed through) is applied by ext_authz;
// delegated says whether any parameter is left to it. PATH parameters are
// handled by the path rewrite. ipByEnvoy says whether Envoy's remote
// address is the client IP the instance defines.
//
// group is the member group the route calls (member-group backends): its
// name and id are the $context.member_group_* parameters.
func nativeHeaders(api *apigwv1.Api, envName string, ipByEnvoy bool, params []*apigwv1.BackendParam, group *apigwv1.MemberGroup) (hdrs []*corev3.HeaderValueOption, delegated bool) {
	for _, p := range params {
		if p.Location == model.LocPath {
			continue
		}
		v, ok := nativeHeaderValue(api, envName, ipByEnvoy, p, group)
		if !ok {
			delegated = true
			continue
		}
		hdrs = append(hdrs, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: strings.ToLower(p.Name), Value: v},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	return hdrs, delegated
}

func nativeHeaderValue(api *apigwv1.Api, envName string, ipByEnvoy bool, p *apigwv1.BackendParam, group *apigwv1.MemberGroup) (string, bool) {
	if p.Location != model.LocHeader {
		return "", false
	}
	switch p.Origin {
	case model.OriginConstant:
		return escapeFormatter(p.Value), true
	case model.OriginSystem:
		if p.SystemParamType != "" && p.SystemParamType != model.SysParamInternal {
			return "", false
		}
		name := strings.TrimPrefix(p.Value, "$context.")
		switch name {
		case "stage":
			return escapeFormatter(envName), true
		case "apiId":
			return escapeFormatter(api.Id), true
		case "apiName":
			return escapeFormatter(api.Name), true
		case "member_group_name":
			return escapeFormatter(group.GetMemberGroupName()), group != nil
		case "member_group_id":
			return escapeFormatter(group.GetMemberGroupId()), group != nil
		case "sourceIp":
			if !ipByEnvoy {
				return "", false
			}
		}
		v, ok := systemHeaderValues[name]
		return v, ok
	case model.OriginRequest:
		rp := reqParam(api, p.Value)
		if rp == nil || rp.PassThrough == model.No {
			return "", false
		}
		switch rp.Location {
		case model.LocHeader:
			return "%REQ(" + rp.Name + ")%", true
		case model.LocQuery:
			return "%QUERY_PARAM(" + rp.Name + ")%", true
		}
	}
	return "", false
}

// escapeFormatter makes s a literal in an Envoy formatter string.
func escapeFormatter(s string) string { return strings.ReplaceAll(s, "%", "%%") }
