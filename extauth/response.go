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

	"github.com/apigw/apigw/model/dataplane"
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
	if n := len(c.setHdr); n > 0 {
		opts := make([]corev3.HeaderValueOption, n)
		vals := make([]corev3.HeaderValue, n)
		ok.Headers = make([]*corev3.HeaderValueOption, n)
		for i, h := range c.setHdr {
			vals[i].Key, vals[i].Value = h.k, h.v
			// Our value replaces a client-sent one: Envoys that honour
			// append_action here default to appending.
			opts[i].Header, opts[i].AppendAction = &vals[i], corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
			ok.Headers[i] = &opts[i]
		}
	}
	ok.HeadersToRemove = c.rmHdr
	if n := len(c.setQuery); n > 0 {
		qs := make([]corev3.QueryParameter, n)
		ok.QueryParametersToSet = make([]*corev3.QueryParameter, n)
		for i, q := range c.setQuery {
			qs[i].Key, qs[i].Value = q.k, q.v
			ok.QueryParametersToSet[i] = &qs[i]
		}
	}
	ok.QueryParametersToRemove = c.rmQuery
	if c.debug {
		ok.ResponseHeadersToAdd = c.debugHeaders()
	}
	return &authv3.CheckResponse{
		Status:          c.s.okStatus,
		HttpResponse:    &authv3.CheckResponse_OkResponse{OkResponse: ok},
		DynamicMetadata: c.metadata(nil),
	}
}

// metadata is the dynamic metadata of a decision (namespace
// dataplane.MetadataNamespace).
func (c *call) metadata(d *denial) *structpb.Struct {
	f := make(map[string]*structpb.Value, 6)
	if c.plan != nil {
		f[dataplane.MetaAPIID], f[dataplane.MetaEnvID] = c.plan.apiIDValue, c.plan.envIDValue
	}
	if c.app != nil {
		f[dataplane.MetaAppID] = c.plans.appValue(c.app)
	}
	if c.account != "" {
		f[dataplane.MetaAccountID] = structpb.NewStringValue(c.account)
		if c.accName != "" {
			f[dataplane.MetaAccountName] = structpb.NewStringValue(c.accName)
		}
	}
	if c.ipStr != "" {
		f[dataplane.MetaClientIP] = structpb.NewStringValue(c.ipStr)
	}
	if d == nil {
		if c.hasBePath {
			f[dataplane.MetaBackendPath] = structpb.NewStringValue(c.backPath)
		}
		if c.backend != nil && c.backend.name != "" {
			f[dataplane.MetaPolicy] = structpb.NewStringValue(c.backend.name)
		}
	} else {
		f[dataplane.MetaErrorCode] = structpb.NewStringValue(d.err.Code)
		f[dataplane.MetaErrorMessage] = structpb.NewStringValue(d.err.Message)
		f[dataplane.MetaErrorType] = structpb.NewStringValue(d.err.Type)
	}
	return &structpb.Struct{Fields: f}
}

// denyResponse renders the group's gateway response for the denial (spec
// §4): status, body and headers of the API's response set.
func (c *call) denyResponse(d *denial) *authv3.CheckResponse {
	responseID := ""
	if c.api != nil {
		responseID = c.api.ResponseId
	}
	r := gwresp.Render(c.inst, c.groupID, responseID, d.err, c.vars())
	hdrs := make([]*corev3.HeaderValueOption, 0, len(r.Headers)+2)
	hdrs = append(hdrs, setHeader("content-type", r.ContentType))
	for _, h := range r.Headers {
		hdrs = append(hdrs, setHeader(h[0], h[1]))
	}
	if c.debug {
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
	if c.inst != nil {
		c.clientIP()
		v["sourceIp"] = c.ipStr
	}
	if c.plan != nil {
		v["apiId"], v["apiName"], v["stage"] = c.plan.pub.ApiId, c.api.Name, c.env.GetName()
	}
	if c.app != nil {
		v["appId"], v["appName"] = c.app.Id, c.app.Name
	}
	for k, val := range c.frontCtx {
		v["authorizer.frontend."+k] = val
	}
	for k, val := range c.backCtx {
		v["authorizer.backend."+k] = val
	}
	return v
}

func (c *call) debugHeaders() []*corev3.HeaderValueOption {
	backend := "default"
	if c.backend != nil && c.backend.name != "" {
		backend = c.backend.name
	}
	h := []*corev3.HeaderValueOption{
		setHeader(hdrDebugAPI, c.plan.debugAPI),
		setHeader(hdrDebugBackend, backend),
		setHeader(hdrDebugDuration, strconv.FormatInt(time.Since(c.start).Microseconds(), 10)+"us"),
	}
	if c.app != nil {
		h = append(h, setHeader(hdrDebugApp, c.app.Id))
	}
	if c.api.AuthorizerId != "" {
		st := "called"
		if c.azCached {
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
