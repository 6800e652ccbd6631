package ratelimit

import (
	"math"
	"slices"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/ratelimit/descriptor"
	"github.com/apigw/apigw/ratelimit/quota"
)

// answer fills the statuses of the limited descriptors (1:1 with the
// request's, for Envoy's X-RateLimit headers), the overall code, the
// gateway response of the first limit hit in the order api, user, app,
// ip, app_quota (spec §3.1), and the debug headers. results is nil when
// the counter failed open.
func (s *Service) answer(resp *rlsv3.RateLimitResponse, checks []check, results []counter.Result, rc *requestContext) {
	if results == nil {
		return
	}
	var hit *check
	blocks := make([]statusBlock, len(checks)) // one allocation for all statuses
	for i := range checks {
		c, r := &checks[i], results[i]
		st := blocks[i].fill(c.limit, r)
		if r.Over {
			st.Code = rlsv3.RateLimitResponse_OVER_LIMIT
			if m := s.m.overByDim[c.d.Dim]; m != nil {
				m.Inc()
			}
			if hit == nil || rank(c.d.Dim) < rank(hit.d.Dim) {
				hit = c
			}
		}
		resp.Statuses[c.idx] = st
	}
	if hit != nil {
		resp.OverallCode = rlsv3.RateLimitResponse_OVER_LIMIT
		render(resp, hit, rc)
	}
	if rc.debug {
		resp.ResponseHeadersToAdd = append(resp.ResponseHeadersToAdd, debugHeaders(checks, results)...)
	}
}

func rank(dim string) int { return slices.Index(descriptor.Dims, dim) }

// statusBlock holds the messages of one descriptor status.
type statusBlock struct {
	status rlsv3.RateLimitResponse_DescriptorStatus
	limit  rlsv3.RateLimitResponse_RateLimit
	mult   wrapperspb.UInt32Value
	reset  durationpb.Duration
}

func (b *statusBlock) fill(l quota.Limit, r counter.Result) *rlsv3.RateLimitResponse_DescriptorStatus {
	b.mult.Value = uint32(l.Interval)
	b.limit.Name, b.limit.RequestsPerUnit, b.limit.Unit, b.limit.UnitMultiplier = l.Name, uint32(min(l.Requests, math.MaxUint32)), unit(l.Unit), &b.mult
	b.reset.Seconds, b.reset.Nanos = int64(r.Reset/time.Second), int32(r.Reset%time.Second)
	b.status.Code, b.status.CurrentLimit = rlsv3.RateLimitResponse_OK, &b.limit
	b.status.LimitRemaining, b.status.DurationUntilReset = uint32(min(r.Remaining(l.Requests), math.MaxUint32)), &b.reset
	return &b.status
}

func unit(u string) rlsv3.RateLimitResponse_RateLimit_Unit {
	switch u {
	case model.UnitSecond:
		return rlsv3.RateLimitResponse_RateLimit_SECOND
	case model.UnitMinute:
		return rlsv3.RateLimitResponse_RateLimit_MINUTE
	case model.UnitHour:
		return rlsv3.RateLimitResponse_RateLimit_HOUR
	case model.UnitDay:
		return rlsv3.RateLimitResponse_RateLimit_DAY
	}
	return rlsv3.RateLimitResponse_RateLimit_UNKNOWN
}

// render puts the API's gateway response for the limit's error in the
// response: Envoy sends raw_body and response_headers_to_add with its
// 429, and the dynamic metadata lets local_reply_config set the status
// the response asks for (405 for APIG.0501, or a response set's own).
func render(resp *rlsv3.RateLimitResponse, c *check, rc *requestContext) {
	in := c.in
	api := in.Served(c.d.API, c.d.Env).GetApi()
	reqPath, _, _ := strings.Cut(rc.path, "?")
	vars := gwresp.Vars{
		"apiId": c.d.API, "apiName": api.GetName(), "stage": in.Env(c.d.Env).GetName(),
		"requestId": rc.requestID, "sourceIp": rc.clientIP,
		"appId": rc.appID, "appName": in.App(rc.appID).GetName(),
		"reqMethod": rc.method, "reqUri": rc.path, "reqPath": reqPath,
	}
	r := gwresp.Render(in, api.GetGroupId(), api.GetResponseId(), c.limit.Error, vars)
	resp.RawBody = []byte(r.Body)
	resp.ResponseHeadersToAdd = append(resp.ResponseHeadersToAdd, &corev3.HeaderValue{Key: "content-type", Value: r.ContentType})
	for _, h := range r.Headers {
		resp.ResponseHeadersToAdd = append(resp.ResponseHeadersToAdd, &corev3.HeaderValue{Key: h[0], Value: h[1]})
	}
	resp.DynamicMetadata = &structpb.Struct{Fields: map[string]*structpb.Value{
		descriptor.MetaErrorCode:    structpb.NewStringValue(c.limit.Error.Code),
		descriptor.MetaErrorMessage: structpb.NewStringValue(c.limit.Error.Message),
		descriptor.MetaErrorType:    structpb.NewStringValue(c.limit.Error.Type),
		descriptor.MetaStatus:       structpb.NewNumberValue(float64(r.Status)),
		descriptor.MetaDim:          structpb.NewStringValue(c.d.Dim),
	}}
}
