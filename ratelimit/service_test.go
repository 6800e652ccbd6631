package ratelimit_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model/gwresp"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
)

const (
	OK   = rlsv3.RateLimitResponse_OK
	OVER = rlsv3.RateLimitResponse_OVER_LIMIT
)

func codes(r *rlsv3.RateLimitResponse) []rlsv3.RateLimitResponse_Code {
	out := make([]rlsv3.RateLimitResponse_Code, len(r.Statuses))
	for i, s := range r.Statuses {
		out[i] = s.Code
	}
	return out
}

func eqCodes(a []rlsv3.RateLimitResponse_Code, b ...rlsv3.RateLimitResponse_Code) bool {
	return slices.Equal(a, b)
}

// The app limit (3 per minute) is hit first; the 429 carries APIG.0308
// rendered with the API's response set, and the statuses say which
// descriptor is over.
func TestOverLimitRendersGatewayResponse(t *testing.T) {
	e := start(t, nil)
	c := call{api: fx.APIExclusive, app: fx.AppSpecialLow, ip: "192.0.2.7", requestID: "req-42", method: "GET", path: "/pets/1?x=\"y\""}
	// descriptors: api, app, ip, app_quota, request.
	r := e.okUntil(t, 2, c) // special quota 2 replaces the app default 3
	if !eqCodes(codes(r), OK, OVER, OK, OK, OK) {
		t.Fatalf("statuses %v, want only the app descriptor over", codes(r))
	}
	var body map[string]string
	if err := json.Unmarshal(r.RawBody, &body); err != nil {
		t.Fatalf("raw_body %q is not JSON: %v", r.RawBody, err)
	}
	want := map[string]string{"code": "APIG.0308", "msg": gwresp.ErrThrottled.Message, "api": "name_" + fx.APIExclusive, "id": "req-42", "ip": "192.0.2.7", "path": "/pets/1"}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%s] = %q, want %q (body %s)", k, body[k], v, r.RawBody)
		}
	}
	if v, _ := header(r, "content-type"); v != "application/json" {
		t.Errorf("content-type %q", v)
	}
	if v, _ := header(r, "X-Throttled-By"); v != "apigw" {
		t.Errorf("response set header X-Throttled-By = %q", v)
	}
	md := r.DynamicMetadata.GetFields()
	if md[dataplane.RateLimitMetaErrorCode].GetStringValue() != "APIG.0308" || md[dataplane.RateLimitMetaStatus].GetNumberValue() != 429 ||
		md[dataplane.RateLimitMetaErrorType].GetStringValue() != "THROTTLED" || md[dataplane.RateLimitMetaDim].GetStringValue() != dataplane.RateLimitDimApp {
		t.Errorf("dynamic metadata %v", md)
	}
	if got := metric(t, e.reg, "apigw_ratelimit_over_limit_total", map[string]string{"dim": "app"}); got != 1 {
		t.Errorf("over_limit_total{dim=app} = %v, want 1", got)
	}
}

// Statuses carry what Envoy's X-RateLimit headers need, 1:1 in
// descriptor order.
func TestStatusesForXRateLimitHeaders(t *testing.T) {
	e := start(t, nil)
	e.clock.Set(15 * time.Second)
	r := e.do(t, call{api: fx.APIExclusive, account: "acct-1", app: fx.AppPlain, ip: "10.1.1.1"})
	// api 10, user 5, app 3, ip 4 per minute; credential quota 5 per hour.
	want := []struct {
		limit, remaining uint32
		unit             rlsv3.RateLimitResponse_RateLimit_Unit
		reset            time.Duration
	}{
		// A sliding minute of 10 buckets counts a hit until 66 s after its
		// bucket (10:00:12-10:00:18) started: 63 s from 10:00:15.
		{10, 9, rlsv3.RateLimitResponse_RateLimit_MINUTE, 63 * time.Second},
		{5, 4, rlsv3.RateLimitResponse_RateLimit_MINUTE, 63 * time.Second},
		{3, 2, rlsv3.RateLimitResponse_RateLimit_MINUTE, 63 * time.Second},
		{4, 3, rlsv3.RateLimitResponse_RateLimit_MINUTE, 63 * time.Second},
		// The quota's window is 09:05-10:05.
		{5, 4, rlsv3.RateLimitResponse_RateLimit_HOUR, 4*time.Minute + 45*time.Second},
	}
	for i, w := range want {
		s := r.Statuses[i]
		cl := s.CurrentLimit
		if s.Code != OK || cl.GetRequestsPerUnit() != w.limit || cl.GetUnit() != w.unit || cl.GetUnitMultiplier().GetValue() != 1 ||
			s.LimitRemaining != w.remaining || s.DurationUntilReset.AsDuration() != w.reset {
			t.Errorf("status %d: %v", i, s)
		}
	}
	if v, ok := header(r, "content-type"); ok {
		t.Errorf("OK response sets content-type %q", v)
	}
}

func TestSpecialQuotasReplaceAppLimit(t *testing.T) {
	e := start(t, nil)
	e.okUntil(t, 2, call{api: fx.APIExclusive, app: fx.AppSpecialLow})  // special 2
	e.okUntil(t, 4, call{api: fx.APIExclusive, app: fx.AppSpecialHigh}) // special 4 > default 3
	e.okUntil(t, 1, call{api: fx.APIExclusive, account: fx.AccountSpecial})
	// 2 + 4 + 1 = 7 admitted calls; the API limit (10) still applies to
	// everyone: 3 more calls, then the API is exhausted for a plain app
	// that has its own limit left.
	e.okUntil(t, 3, call{api: fx.APIExclusive, ip: "10.0.0.9"})
	r := e.do(t, call{api: fx.APIExclusive, app: fx.AppPlain})
	if !eqCodes(codes(r), OVER, OK, OK) {
		t.Fatalf("statuses %v, want the api over", codes(r))
	}
	if r.DynamicMetadata.GetFields()[dataplane.RateLimitMetaDim].GetStringValue() != dataplane.RateLimitDimAPI {
		t.Errorf("hit dim %v, want api", r.DynamicMetadata)
	}
}

func TestSharedAndExclusiveCounters(t *testing.T) {
	e := start(t, nil)
	// shared_policy: 6 per 10 s across both APIs.
	for range 3 {
		e.do(t, call{api: fx.APIShared1})
		e.do(t, call{api: fx.APIShared2})
	}
	if r := e.do(t, call{api: fx.APIShared2}); r.OverallCode != OVER {
		t.Fatal("shared counter not shared")
	}
	if r := e.do(t, call{api: fx.APIShared1}); r.OverallCode != OVER {
		t.Fatal("shared counter not shared")
	}
	// The exclusive API and the same API in another environment count
	// alone.
	e.okUntil(t, 10, call{api: fx.APIExclusive})
	if r := e.do(t, call{api: fx.APIExclusive, env: fx.Release}); r.OverallCode != OK {
		t.Fatal("RELEASE shares the TEST counter")
	}
	// 10 s later the shared window has slid past every hit.
	e.clock.Advance(10*time.Second + time.Second)
	e.okUntil(t, 6, call{api: fx.APIShared2})
}

func TestInstanceDefaultLimit(t *testing.T) {
	e := start(t, nil)
	r := e.okUntil(t, fx.APILimits, call{api: fx.APIDefault, debug: true})
	if v, _ := header(r, "X-Apig-RateLimit-api-allenv"); v != "remain:0,limit:500,time:1 second" {
		t.Errorf("debug header %q", v)
	}
	// The burst sits in the first 100 ms bucket, which counts until the
	// 11th bucket ends: refused for 1.1 s, admitted again after.
	e.clock.Advance(1099 * time.Millisecond)
	if r := e.do(t, call{api: fx.APIDefault}); r.OverallCode != OVER {
		t.Fatal("admitted within a second of a full burst: a 2x burst across the edge")
	}
	e.clock.Advance(time.Millisecond)
	if r := e.do(t, call{api: fx.APIDefault}); r.OverallCode != OK {
		t.Fatal("refused once the burst left the window")
	}
}

func TestCredentialQuotaAcrossAPIs(t *testing.T) {
	e := start(t, nil)
	e.clock.Set(4*time.Minute + 30*time.Second) // window 09:05-10:05
	// 5 calls per hour across any API, also where no policy limits apps.
	for _, api := range []string{fx.APIExclusive, fx.APIDefault, fx.APIShared1, fx.APIExclusive, fx.APIDefault} {
		if r := e.do(t, call{api: api, app: fx.AppPlain}); r.OverallCode != OK {
			t.Fatalf("%s: %v", api, codes(r))
		}
	}
	r := e.do(t, call{api: fx.APIDefault, app: fx.AppPlain, requestID: "r-1"})
	if r.OverallCode != OVER || !eqCodes(codes(r), OK, OK, OVER, OK) {
		t.Fatalf("6th call: %v %v, want app_quota over", r.OverallCode, codes(r))
	}
	var body map[string]string
	if err := json.Unmarshal(r.RawBody, &body); err != nil || body["error_code"] != "APIG.0501" || body["request_id"] != "r-1" {
		t.Fatalf("body %s (%v), want APIG.0501 in the default template", r.RawBody, err)
	}
	if s := r.DynamicMetadata.GetFields()[dataplane.RateLimitMetaStatus].GetNumberValue(); s != 405 {
		t.Errorf("status %v, want 405", s)
	}
	if d := r.Statuses[2].DurationUntilReset.AsDuration(); d != 30*time.Second {
		t.Errorf("quota resets in %v, want 30s (at 10:05)", d)
	}
	// Other apps are not affected; at the reset time the quota renews.
	if r := e.do(t, call{api: fx.APIDefault, app: fx.AppSpecialLow}); r.OverallCode != OK {
		t.Fatal("another app's quota is shared")
	}
	e.clock.Set(5 * time.Minute)
	if r := e.do(t, call{api: fx.APIDefault, app: fx.AppPlain}); r.OverallCode != OK {
		t.Fatalf("after the reset time: %v", codes(r))
	}
}

func TestDebugHeaders(t *testing.T) {
	e := start(t, nil)
	r := e.do(t, call{api: fx.APIExclusive, account: "acct-1", app: fx.AppPlain, ip: "10.1.1.1", debug: true})
	want := map[string]string{
		"X-Apig-RateLimit-api":  "remain:9,limit:10,time:1 minute",
		"X-Apig-RateLimit-user": "remain:4,limit:5,time:1 minute",
		"X-Apig-RateLimit-app":  "remain:2,limit:3,time:1 minute",
		"X-Apig-RateLimit-ip":   "remain:3,limit:4,time:1 minute",
	}
	for k, v := range want {
		if got, _ := header(r, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(r.ResponseHeadersToAdd) != len(want) {
		t.Errorf("headers %v", r.ResponseHeadersToAdd)
	}
	if r := e.do(t, call{api: fx.APIExclusive, app: fx.AppPlain}); len(r.ResponseHeadersToAdd) != 0 {
		t.Errorf("debug headers without X-Apig-Mode: debug: %v", r.ResponseHeadersToAdd)
	}
}

func TestHitsAddend(t *testing.T) {
	e := start(t, nil)
	// hits_addend 0 counts as 1.
	if r := e.do(t, call{api: fx.APIExclusive, hits: 0}); r.Statuses[0].LimitRemaining != 9 {
		t.Fatalf("remaining %d after one hit", r.Statuses[0].LimitRemaining)
	}
	if r := e.do(t, call{api: fx.APIExclusive, hits: 8}); r.OverallCode != OK || r.Statuses[0].LimitRemaining != 1 {
		t.Fatalf("8 hits: %v", r.Statuses[0])
	}
	if r := e.do(t, call{api: fx.APIExclusive, hits: 2}); r.OverallCode != OVER {
		t.Fatal("2 hits with 1 left admitted")
	}
	// A descriptor's own hits_addend overrides the request's.
	req := call{api: fx.APIExclusive, hits: 5}.request()
	req.Descriptors[0].HitsAddend = wrapperspb.UInt64(1)
	r, err := e.client.ShouldRateLimit(t.Context(), req)
	if err != nil || r.OverallCode != OK || r.Statuses[0].LimitRemaining != 0 {
		t.Fatalf("descriptor hits_addend 1: %v %v", r, err)
	}
}

// Anything outside the scheme is answered OK, never with an error.
func TestUnknownDescriptorsAreOK(t *testing.T) {
	e := start(t, nil)
	entry := func(kv ...string) *ratelimitv3.RateLimitDescriptor {
		d := &ratelimitv3.RateLimitDescriptor{}
		for i := 0; i < len(kv); i += 2 {
			d.Entries = append(d.Entries, &ratelimitv3.RateLimitDescriptor_Entry{Key: kv[i], Value: kv[i+1]})
		}
		return d
	}
	reqs := []*rlsv3.RateLimitRequest{
		{Domain: "other", Descriptors: call{api: fx.APIExclusive}.request().Descriptors},
		{Domain: dataplane.RateLimitDomain, Descriptors: []*ratelimitv3.RateLimitDescriptor{
			entry("remote_address", "10.0.0.1"),
			entry(),
			entry(dataplane.RateLimitKeyInstance, "nope", dataplane.RateLimitKeyAPI, fx.APIExclusive, dataplane.RateLimitKeyEnv, fx.Env, dataplane.RateLimitKeyDim, dataplane.RateLimitDimAPI),
			entry(dataplane.RateLimitKeyInstance, fx.Instance, dataplane.RateLimitKeyAPI, fx.APIExclusive, dataplane.RateLimitKeyEnv, fx.Env, dataplane.RateLimitKeyDim, "weather"),
			entry(dataplane.RateLimitKeyInstance, fx.Instance, dataplane.RateLimitKeyAPI, "ghost", dataplane.RateLimitKeyEnv, fx.Env, dataplane.RateLimitKeyDim, dataplane.RateLimitDimAPI),
		}},
		{Domain: dataplane.RateLimitDomain},
	}
	for i, req := range reqs {
		for range 20 {
			r, err := e.client.ShouldRateLimit(t.Context(), req)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if r.OverallCode != OK || len(r.Statuses) != len(req.Descriptors) {
				t.Fatalf("request %d: %v", i, r)
			}
			for _, s := range r.Statuses {
				if s.Code != OK || s.CurrentLimit != nil {
					t.Fatalf("request %d: status %v", i, s)
				}
			}
		}
	}
	if got := metric(t, e.reg, "apigw_ratelimit_unknown_descriptors_total", nil); got != 40 {
		t.Errorf("unknown_descriptors_total = %v, want 40 (2 per call)", got)
	}
}

// Entries may come in any order and carry keys the scheme does not use.
func TestEntryOrderDoesNotMatter(t *testing.T) {
	e := start(t, nil)
	req := call{api: fx.APIExclusive, app: fx.AppPlain}.request()
	app := req.Descriptors[1]
	app.Entries = append([]*ratelimitv3.RateLimitDescriptor_Entry{app.Entries[4], {Key: "generic_key", Value: "x"}}, app.Entries[:4]...)
	for range 3 {
		if r, _ := e.client.ShouldRateLimit(t.Context(), req); r.OverallCode != OK {
			t.Fatal("refused early")
		}
	}
	if r, _ := e.client.ShouldRateLimit(t.Context(), req); r.OverallCode != OVER || r.Statuses[1].Code != OVER {
		t.Fatalf("4th: %v", r)
	}
}
