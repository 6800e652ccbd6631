package extauth

import (
	"strconv"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model/gwresp"
)

// Debug response headers added when the request has X-Apig-Mode: debug.
const (
	hdrMode          = "x-apig-mode"
	hdrDebugAPI      = "X-Apig-Debug-Api"
	hdrDebugBackend  = "X-Apig-Debug-Backend"
	hdrDebugApp      = "X-Apig-Debug-App"
	hdrDebugReason   = "X-Apig-Debug-Reason"
	hdrDebugAuthz    = "X-Apig-Debug-Authorizer"
	hdrDebugDuration = "X-Apig-Debug-Auth-Latency"
)

// allowResponse is the OK answer: request headers to set and remove,
// query parameters, and the dynamic metadata for rate limiting, the
// route's path_rewrite and logs.
func (c *call) allowResponse() *authv3.CheckResponse {
	ok := &authv3.OkHttpResponse{}
	if n := len(c.mut.setHdr); n > 0 {
		opts := make([]corev3.HeaderValueOption, n)
		vals := make([]corev3.HeaderValue, n)
		ok.Headers = make([]*corev3.HeaderValueOption, n)
		for i, h := range c.mut.setHdr {
			vals[i].Key, vals[i].Value = h.k, h.v
			// Our value replaces a client-sent one: Envoys that honour
			// append_action here default to appending.
			opts[i].Header, opts[i].AppendAction = &vals[i], corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
			ok.Headers[i] = &opts[i]
		}
	}
	ok.HeadersToRemove = c.mut.rmHdr
	if n := len(c.mut.setQuery); n > 0 {
		qs := make([]corev3.QueryParameter, n)
		ok.QueryParametersToSet = make([]*corev3.QueryParameter, n)
		for i, q := range c.mut.setQuery {
			qs[i].Key, qs[i].Value = q.k, q.v
			ok.QueryParametersToSet[i] = &qs[i]
		}
	}
	ok.QueryParametersToRemove = c.mut.rmQuery
	if c.decision.debug {
		ok.ResponseHeadersToAdd = c.debugHeaders()
	}
	return &authv3.CheckResponse{
		Status:          c.s.okStatus,
		HttpResponse:    &authv3.CheckResponse_OkResponse{OkResponse: ok},
		DynamicMetadata: c.metadata(nil),
	}
}

// metadata is the dynamic metadata of a decision (namespace
// dataplane.ExtAuthzMetadataNamespace).
func (c *call) metadata(d *denial) *structpb.Struct {
	f := make(map[string]*structpb.Value, 6)
	if c.target.plan != nil {
		f[dataplane.ExtAuthzMetaAPIID], f[dataplane.ExtAuthzMetaEnvID] = c.target.plan.apiIDValue, c.target.plan.envIDValue
	}
	if c.caller.app != nil {
		f[dataplane.ExtAuthzMetaAppID] = c.plans.appValue(c.caller.app)
	}
	if c.caller.account != "" {
		f[dataplane.ExtAuthzMetaAccountID] = structpb.NewStringValue(c.caller.account)
		if c.caller.accName != "" {
			f[dataplane.ExtAuthzMetaAccountName] = structpb.NewStringValue(c.caller.accName)
		}
	}
	if c.client.str != "" {
		f[dataplane.ExtAuthzMetaClientIP] = structpb.NewStringValue(c.client.str)
	}
	if c.backend.breakerRule != "" {
		f[dataplane.ExtAuthzMetaBreakerRule] = structpb.NewStringValue(c.backend.breakerRule)
	}
	if c.backend.downgraded {
		f[dataplane.ExtAuthzMetaBreakerDowngraded] = structpb.NewBoolValue(true)
	}
	if len(c.caller.frontCtx) > 0 {
		f[dataplane.ExtAuthzMetaFrontendContext] = stringStruct(c.caller.frontCtx)
	}
	if len(c.backend.authzCtx) > 0 {
		f[dataplane.ExtAuthzMetaBackendContext] = stringStruct(c.backend.authzCtx)
	}
	if d == nil {
		if c.backend.hasPath {
			f[dataplane.ExtAuthzMetaBackendPath] = structpb.NewStringValue(c.backend.path)
		}
		if c.backend.plan != nil && c.backend.plan.name != "" {
			f[dataplane.ExtAuthzMetaPolicy] = structpb.NewStringValue(c.backend.plan.name)
		}
		if c.target.plan != nil {
			if r := c.rateRule(); r != "" {
				f[dataplane.ExtAuthzMetaRateLimitRule] = structpb.NewStringValue(r)
			}
		}
	} else {
		f[dataplane.ExtAuthzMetaErrorCode] = structpb.NewStringValue(d.err.Code)
		f[dataplane.ExtAuthzMetaErrorMessage] = structpb.NewStringValue(d.err.Message)
		f[dataplane.ExtAuthzMetaErrorType] = structpb.NewStringValue(d.err.Type)
	}
	return &structpb.Struct{Fields: f}
}

// stringStruct is a context map as a metadata struct value.
func stringStruct(m map[string]string) *structpb.Value {
	f := make(map[string]*structpb.Value, len(m))
	for k, v := range m {
		f[k] = structpb.NewStringValue(v)
	}
	return structpb.NewStructValue(&structpb.Struct{Fields: f})
}

// denyResponse renders the group's gateway response for the denial
// (docs/apig-semantics.md#gateway-responses): status, body and headers of
// the API's response set.
func (c *call) denyResponse(d *denial) *authv3.CheckResponse {
	if d.mock != nil {
		return c.mockResponse(d)
	}
	responseID := ""
	if c.target.api != nil {
		responseID = c.target.api.ResponseId
	}
	r := gwresp.Render(c.target.inst, c.target.groupID, responseID, d.err, c.vars())
	if d.body != "" {
		r.Body, r.ContentType = d.body, d.contentType
	}
	hdrs := make([]*corev3.HeaderValueOption, 0, len(r.Headers)+2)
	hdrs = append(hdrs, setHeader("content-type", r.ContentType))
	for _, h := range r.Headers {
		hdrs = append(hdrs, setHeader(h[0], h[1]))
	}
	if c.decision.debug {
		hdrs = append(hdrs, setHeader(hdrDebugReason, string(d.reason)))
	}
	return &authv3.CheckResponse{
		Status: &rpcstatus.Status{Code: int32(grpcCode(r.Status)), Message: d.err.Code},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode(r.Status)},
			Headers: hdrs,
			Body:    r.Body,
		}},
		DynamicMetadata: c.metadata(d),
	}
}

func setHeader(k, v string) *corev3.HeaderValueOption {
	//lint:ignore SA1019 ext_authz reads append (not append_action) in OkHttpResponse.headers
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}, Append: wrapperspb.Bool(false)}
}

// vars are the $context variables of gateway-response templates.
func (c *call) vars() gwresp.Vars {
	v := gwresp.Vars{
		"requestId": c.req.requestID,
		"reqPath":   c.req.path,
		"reqUri":    c.req.path,
		"reqMethod": c.req.method,
	}
	if c.req.rawQuery != "" {
		v["reqUri"] = c.req.path + "?" + c.req.rawQuery
	}
	if c.target.inst != nil {
		c.clientIP()
		v["sourceIp"] = c.client.str
	}
	if c.target.plan != nil {
		v["apiId"], v["apiName"], v["stage"] = c.target.plan.pub.ApiId, c.target.api.Name, c.target.env.GetName()
	}
	if c.caller.app != nil {
		v["appId"], v["appName"] = c.caller.app.Id, c.caller.app.Name
	}
	for k, val := range c.caller.frontCtx {
		v["authorizer.frontend."+k] = val
	}
	for k, val := range c.backend.authzCtx {
		v["authorizer.backend."+k] = val
	}
	return v
}

func (c *call) debugHeaders() []*corev3.HeaderValueOption {
	backend := "default"
	if c.backend.plan != nil && c.backend.plan.name != "" {
		backend = c.backend.plan.name
	}
	h := []*corev3.HeaderValueOption{
		setHeader(hdrDebugAPI, c.target.plan.debugAPI),
		setHeader(hdrDebugBackend, backend),
		setHeader(hdrDebugDuration, strconv.FormatInt(time.Since(c.start).Microseconds(), 10)+"us"),
	}
	if c.caller.app != nil {
		h = append(h, setHeader(hdrDebugApp, c.caller.app.Id))
	}
	if c.target.api.AuthorizerId != "" {
		st := "called"
		if c.decision.authzCached {
			st = "cached"
		}
		h = append(h, setHeader(hdrDebugAuthz, st))
	}
	return h
}

// grpcCode is the gRPC status of a denial's HTTP status (informational:
// Envoy uses the denied response's status).
func grpcCode(status int32) codes.Code {
	switch {
	case status == 400:
		return codes.InvalidArgument
	case status == 401:
		return codes.Unauthenticated
	case status == 403 || status == 405:
		return codes.PermissionDenied
	case status == 404:
		return codes.NotFound
	case status == 429:
		return codes.ResourceExhausted
	case status >= 500:
		return codes.Unavailable
	}
	return codes.PermissionDenied
}
