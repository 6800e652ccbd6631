package ratelimit

import (
	"math"
	"slices"
	"strings"
	"sync"
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
		if c.unknown {
			continue
		}
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
		s.render(resp, hit, rc)
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
func (s *Service) render(resp *rlsv3.RateLimitResponse, c *check, rc *requestContext) {
	in := c.in
	api := in.Served(c.d.API, c.d.Env).GetApi()
	r := s.response(rc.snap, in, api.GetGroupId(), api.GetResponseId(), c.limit.Error)
	vars := func(name string) string {
		switch name {
		case "apiId":
			return c.d.API
		case "apiName":
			return api.GetName()
		case "stage":
			return in.Env(c.d.Env).GetName()
		case "requestId":
			return rc.requestID
		case "sourceIp":
			return rc.clientIP
		case "appId":
			return rc.appID
		case "appName":
			return in.App(rc.appID).GetName()
		case "reqMethod":
			return rc.method
		case "reqUri":
			return rc.path
		case "reqPath":
			p, _, _ := strings.Cut(rc.path, "?")
			return p
		}
		return ""
	}
	resp.RawBody = r.c.AppendBody(make([]byte, 0, r.size), vars)
	resp.ResponseHeadersToAdd = append(resp.ResponseHeadersToAdd, r.contentType)
	for i, h := range r.headers {
		if h == nil {
			key, _, _ := r.c.Header(i)
			h = &corev3.HeaderValue{Key: key, Value: string(r.c.AppendHeader(nil, i, vars))}
		}
		resp.ResponseHeadersToAdd = append(resp.ResponseHeadersToAdd, h)
	}
	resp.DynamicMetadata = r.meta[rank(c.d.Dim)]
}

// responseCache holds the gateway responses rendered for one snapshot.
type responseCache struct {
	snap *model.Snapshot
	m    sync.Map // responseKey → *compiledResponse
}

type responseKey struct {
	in              *model.Instance
	group, response string
	err             gwresp.Error
}

// compiledResponse is a gateway response ready to render, with the
// parts every request shares (never modified).
type compiledResponse struct {
	c           *gwresp.Compiled
	size        int // of the body's text, to size its buffer
	contentType *corev3.HeaderValue
	headers     []*corev3.HeaderValue // nil where the value depends on the request
	meta        []*structpb.Struct    // dynamic metadata by dimension rank
}

// response returns the compiled gateway response for an error of an API
// of snap's instance in.
func (s *Service) response(snap *model.Snapshot, in *model.Instance, group, response string, e gwresp.Error) *compiledResponse {
	cache := s.responses.Load()
	if cache == nil || cache.snap != snap {
		fresh := &responseCache{snap: snap}
		if s.responses.CompareAndSwap(cache, fresh) {
			cache = fresh
		} else if cache = s.responses.Load(); cache.snap != snap {
			cache = fresh // a call of another snapshot won: do not cache
		}
	}
	k := responseKey{in, group, response, e}
	if r, ok := cache.m.Load(k); ok {
		return r.(*compiledResponse)
	}
	c := gwresp.Compile(in, group, response, e)
	r := &compiledResponse{c: c, size: len(c.AppendBody(nil, func(string) string { return "" })) + 64,
		contentType: &corev3.HeaderValue{Key: "content-type", Value: c.ContentType}}
	for i := range c.Headers() {
		var h *corev3.HeaderValue
		if key, value, constant := c.Header(i); constant {
			h = &corev3.HeaderValue{Key: key, Value: value}
		}
		r.headers = append(r.headers, h)
	}
	for _, dim := range descriptor.Dims {
		r.meta = append(r.meta, &structpb.Struct{Fields: map[string]*structpb.Value{
			descriptor.MetaErrorCode:    structpb.NewStringValue(e.Code),
			descriptor.MetaErrorMessage: structpb.NewStringValue(e.Message),
			descriptor.MetaErrorType:    structpb.NewStringValue(e.Type),
			descriptor.MetaStatus:       structpb.NewNumberValue(float64(c.Status)),
			descriptor.MetaDim:          structpb.NewStringValue(dim),
		}})
	}
	actual, _ := cache.m.LoadOrStore(k, r)
	return actual.(*compiledResponse)
}
