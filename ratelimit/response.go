package ratelimit

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/ratelimit/quota"
)

// answer is the response decided for a call, from which both the message
// (toProto) and its wire form (appendResponse) are written: a status per
// limited descriptor (1:1 with the request's, for Envoy's X-RateLimit
// headers), the overall code, the gateway response of the first limit
// hit in the order api, user, app, ip, rule, app_quota, and the
// debug headers.
type answer struct {
	over bool
	// results are the checks' counts; nil when the counter failed open
	// or nothing was counted (no statuses then).
	results []counter.Result
	// resp is the gateway response of the limit hit (nil if none), meta
	// its dynamic metadata's index, body its rendered body and headers
	// its headers after content-type (value rendered where not shared).
	resp    *compiledResponse
	meta    int
	body    []byte
	headers []answerHeader
	debug   []*corev3.HeaderValue
}

type answerHeader struct {
	shared     *corev3.HeaderValue // when the value does not depend on the request
	key, value string
}

func rank(dim string) int {
	dims := dataplane.RateLimitDims()
	return slices.Index(dims[:], dim)
}

// decideAnswer fills sc.answer from the checks' results (nil when the
// counter failed open).
func (s *Service) decideAnswer(sc *scratch, results []counter.Result) {
	a := &sc.answer
	a.over, a.results, a.resp, a.body, a.headers, a.debug = false, results, nil, a.body[:0], a.headers[:0], nil
	if results == nil {
		return
	}
	hit := -1
	for i := range sc.checks {
		c := &sc.checks[i]
		if c.unknown || !results[i].Over {
			continue
		}
		a.over = true
		if m := s.m.overByDim[c.d.Dim]; m != nil {
			m.Inc()
		}
		if hit < 0 || rank(c.d.Dim) < rank(sc.checks[hit].d.Dim) {
			hit = i
		}
	}
	if hit >= 0 {
		s.render(sc, &sc.checks[hit])
	}
	if sc.rc.debug {
		a.debug = debugHeaders(sc.checks, results)
	}
}

// toProto returns the answer as a message.
func (s *Service) toProto(sc *scratch) *rlsv3.RateLimitResponse {
	a := &sc.answer
	resp := &rlsv3.RateLimitResponse{OverallCode: rlsv3.RateLimitResponse_OK, Statuses: make([]*rlsv3.RateLimitResponse_DescriptorStatus, len(sc.call.descs))}
	for i := range resp.Statuses {
		resp.Statuses[i] = s.ok
	}
	if a.results != nil {
		blocks := make([]statusBlock, len(sc.checks)) // one allocation for all statuses
		for i := range sc.checks {
			if c := &sc.checks[i]; !c.unknown {
				resp.Statuses[c.idx] = blocks[i].fill(c.limit, a.results[i])
			}
		}
	}
	if a.over {
		resp.OverallCode = rlsv3.RateLimitResponse_OVER_LIMIT
	}
	if a.resp != nil {
		resp.RawBody = slices.Clone(a.body)
		resp.ResponseHeadersToAdd = append(resp.ResponseHeadersToAdd, a.resp.contentType)
		for _, h := range a.headers {
			if h.shared == nil {
				h.shared = &corev3.HeaderValue{Key: h.key, Value: h.value}
			}
			resp.ResponseHeadersToAdd = append(resp.ResponseHeadersToAdd, h.shared)
		}
		resp.DynamicMetadata = a.resp.meta[a.meta]
	}
	resp.ResponseHeadersToAdd = append(resp.ResponseHeadersToAdd, a.debug...)
	return resp
}

// statusBlock holds the messages of one descriptor status.
type statusBlock struct {
	status rlsv3.RateLimitResponse_DescriptorStatus
	limit  rlsv3.RateLimitResponse_RateLimit
	mult   wrapperspb.UInt32Value
	reset  durationpb.Duration
}

func (b *statusBlock) fill(l quota.Limit, r counter.Result) *rlsv3.RateLimitResponse_DescriptorStatus {
	b.mult.Value = uint32(l.Interval)
	b.limit.Name, b.limit.RequestsPerUnit, b.limit.Unit, b.limit.UnitMultiplier = l.Name, requestsPerUnit(l), unit(l.Unit), &b.mult
	b.reset.Seconds, b.reset.Nanos = int64(r.Reset/time.Second), int32(r.Reset%time.Second)
	b.status.Code, b.status.CurrentLimit = statusCode(r), &b.limit
	b.status.LimitRemaining, b.status.DurationUntilReset = remaining(l, r), &b.reset
	return &b.status
}

func statusCode(r counter.Result) rlsv3.RateLimitResponse_Code {
	if r.Over {
		return rlsv3.RateLimitResponse_OVER_LIMIT
	}
	return rlsv3.RateLimitResponse_OK
}

func requestsPerUnit(l quota.Limit) uint32 { return uint32(min(l.Requests, math.MaxUint32)) }

func remaining(l quota.Limit, r counter.Result) uint32 {
	return uint32(min(r.Remaining(l.Requests), math.MaxUint32))
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
// answer: Envoy sends raw_body and response_headers_to_add with its 429,
// and the dynamic metadata lets local_reply_config set the status the
// response asks for (405 for APIG.0501, or a response set's own).
func (s *Service) render(sc *scratch, c *check) {
	a, rc, in, api := &sc.answer, &sc.rc, c.in, c.api
	r := s.response(rc.snap, in, api, c.limit.Error)
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
	a.resp, a.meta = r, rank(c.d.Dim)
	a.body = r.c.AppendBody(a.body, vars)
	for i, h := range r.headers {
		if h != nil {
			a.headers = append(a.headers, answerHeader{shared: h})
			continue
		}
		key, _, _ := r.c.Header(i)
		a.headers = append(a.headers, answerHeader{key: key, value: string(r.c.AppendHeader(nil, i, vars))})
	}
}

// responseCache holds the gateway responses rendered for one snapshot.
type responseCache struct {
	snap *live.Snapshot
	m    sync.Map // responseKey → *compiledResponse
}

// responseKey identifies a gateway response: the API as published (in
// one instance of one snapshot) and the error (throttling or credential
// quota: the error code tells them apart).
type responseKey struct {
	api  *apigwv1.Api
	code string
}

// compiledResponse is a gateway response ready to render, with the parts
// every request shares (never modified), as messages and on the wire.
type compiledResponse struct {
	c           *gwresp.Compiled
	contentType *corev3.HeaderValue
	headers     []*corev3.HeaderValue // nil where the value depends on the request
	meta        []*structpb.Struct    // dynamic metadata by dimension rank
	// wire forms: field 3 (response_headers_to_add) of content-type, of
	// each shared header, and field 6 (dynamic_metadata) by rank
	contentTypeWire []byte
	headersWire     [][]byte
	metaWire        [][]byte
}

// response returns the compiled gateway response for an error of an API
// of snap's instance in.
func (s *Service) response(snap *live.Snapshot, in *model.Instance, api *apigwv1.Api, e gwresp.Error) *compiledResponse {
	cache := s.responses.Load()
	if cache == nil || cache.snap != snap {
		fresh := &responseCache{snap: snap}
		if s.responses.CompareAndSwap(cache, fresh) {
			cache = fresh
		} else if cache = s.responses.Load(); cache.snap != snap {
			cache = fresh // a call of another snapshot won: do not cache
		}
	}
	k := responseKey{api, e.Code}
	if r, ok := cache.m.Load(k); ok {
		return r.(*compiledResponse)
	}
	c := gwresp.Compile(in, api.GetGroupId(), api.GetResponseId(), e)
	r := &compiledResponse{c: c, contentType: &corev3.HeaderValue{Key: "content-type", Value: c.ContentType}}
	r.contentTypeWire = appendHeaderField(nil, r.contentType.Key, r.contentType.Value)
	for i := range c.Headers() {
		var h *corev3.HeaderValue
		var w []byte
		if key, value, constant := c.Header(i); constant {
			h = &corev3.HeaderValue{Key: key, Value: value}
			w = appendHeaderField(nil, key, value)
		}
		r.headers, r.headersWire = append(r.headers, h), append(r.headersWire, w)
	}
	for _, dim := range dataplane.RateLimitDims() {
		m := &structpb.Struct{Fields: map[string]*structpb.Value{
			dataplane.RateLimitMetaErrorCode:    structpb.NewStringValue(e.Code),
			dataplane.RateLimitMetaErrorMessage: structpb.NewStringValue(e.Message),
			dataplane.RateLimitMetaErrorType:    structpb.NewStringValue(e.Type),
			dataplane.RateLimitMetaStatus:       structpb.NewNumberValue(float64(c.Status)),
			dataplane.RateLimitMetaDim:          structpb.NewStringValue(dim),
		}}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			panic("ratelimit: encoding dynamic metadata: " + err.Error()) // a Struct of strings and a number always encodes
		}
		r.meta, r.metaWire = append(r.meta, m), append(r.metaWire, appendBytesField(nil, respDynamicMetadata, b))
	}
	actual, _ := cache.m.LoadOrStore(k, r)
	return actual.(*compiledResponse)
}
