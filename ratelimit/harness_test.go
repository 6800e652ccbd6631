package ratelimit_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
)

// epoch is a round hour: minute windows start on it and the fixture's
// credential quota windows start 5 minutes after it.
var epoch = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(epoch.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Set(d time.Duration)     { c.ns.Store(epoch.Add(d).UnixNano()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type env struct {
	client rlsv3.RateLimitServiceClient
	feed   *live.Feed
	clock  *fakeClock
	reg    *prometheus.Registry
}

// start serves a ratelimit.Service over real gRPC on 127.0.0.1:0, with
// the fixture's snapshot, an in-memory counter (unless c is given) and a
// fake clock at epoch.
func start(t testing.TB, c counter.Counter, opts ...ratelimit.Option) *env {
	t.Helper()
	e := &env{feed: live.NewFeed(), clock: newClock(), reg: prometheus.NewRegistry()}
	e.feed.Publish(fx.Snapshot(1))
	if c == nil {
		c = counter.NewMemory()
	}
	opts = append([]ratelimit.Option{ratelimit.WithClock(e.clock), ratelimit.WithRegisterer(e.reg)}, opts...)
	svc, err := ratelimit.New(e.feed, c, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	e.client = serve(t, svc.Register)
	return e
}

func serve(t testing.TB, register func(*grpc.Server)) rlsv3.RateLimitServiceClient {
	t.Helper()
	g := grpc.NewServer()
	register(g)
	return rlsv3.NewRateLimitServiceClient(testutil.ServeAndDialGRPC(t, g))
}

// call describes one API call the way the translator's rate-limit actions
// describe it; empty subjects are absent from ext_authz's metadata, so
// Envoy drops their descriptors.
type call struct {
	api, env                string
	account, app, ip        string
	rule                    string // the rate_limit rule ext_authz matched
	requestID, method, path string
	debug                   bool
	hits                    uint32
}

// request builds the RateLimitRequest Envoy sends for c: one descriptor
// per rate-limit entry of the route, in the route's order, each with the
// entries of its actions in order.
func (c call) request() *rlsv3.RateLimitRequest {
	if c.env == "" {
		c.env = fx.Env
	}
	d := func(dim, subject string) dataplane.RateLimitDescriptor {
		return dataplane.RateLimitDescriptor{Instance: fx.Instance, API: c.api, Env: c.env, Dim: dim, Subject: subject}
	}
	var descs []*ratelimitv3.RateLimitDescriptor
	add := func(entries []dataplane.RateLimitEntry) {
		rd := &ratelimitv3.RateLimitDescriptor{}
		for _, e := range entries {
			rd.Entries = append(rd.Entries, &ratelimitv3.RateLimitDescriptor_Entry{Key: e.Key, Value: e.Value})
		}
		descs = append(descs, rd)
	}
	add(d(dataplane.RateLimitDimAPI, "").Entries())
	if c.account != "" {
		add(d(dataplane.RateLimitDimUser, c.account).Entries())
	}
	if c.app != "" {
		add(d(dataplane.RateLimitDimApp, c.app).Entries())
	}
	if c.ip != "" {
		add(d(dataplane.RateLimitDimIP, c.ip).Entries())
	}
	if c.rule != "" {
		add(d(dataplane.RateLimitDimRule, c.rule).Entries())
	}
	if c.app != "" {
		add(d(dataplane.RateLimitDimAppQuota, c.app).Entries())
	}
	if c.requestID != "" {
		add(append(d(dataplane.RateLimitDimRequest, "").Entries(),
			dataplane.RateLimitEntry{Key: dataplane.RateLimitKeyRequestID, Value: c.requestID},
			dataplane.RateLimitEntry{Key: dataplane.RateLimitKeyMethod, Value: c.method},
			dataplane.RateLimitEntry{Key: dataplane.RateLimitKeyPath, Value: c.path}))
	}
	if c.debug {
		add(d(dataplane.RateLimitDimDebug, "").Entries())
	}
	return &rlsv3.RateLimitRequest{Domain: dataplane.RateLimitDomain, Descriptors: descs, HitsAddend: c.hits}
}

func (e *env) do(t testing.TB, c call) *rlsv3.RateLimitResponse {
	t.Helper()
	resp, err := e.client.ShouldRateLimit(context.Background(), c.request())
	if err != nil {
		t.Fatalf("ShouldRateLimit: %v", err)
	}
	if n, want := len(resp.Statuses), len(c.request().Descriptors); n != want {
		t.Fatalf("%d statuses for %d descriptors", n, want)
	}
	return resp
}

// okUntil calls n times expecting OK, then once expecting OVER_LIMIT.
func (e *env) okUntil(t testing.TB, n int, c call) *rlsv3.RateLimitResponse {
	t.Helper()
	for i := range n {
		if r := e.do(t, c); r.OverallCode != rlsv3.RateLimitResponse_OK {
			t.Fatalf("call %d of %d: %v, want OK", i+1, n, r.OverallCode)
		}
	}
	r := e.do(t, c)
	if r.OverallCode != rlsv3.RateLimitResponse_OVER_LIMIT {
		t.Fatalf("call %d: %v, want OVER_LIMIT", n+1, r.OverallCode)
	}
	return r
}

func header(r *rlsv3.RateLimitResponse, name string) (string, bool) {
	for _, h := range r.ResponseHeadersToAdd {
		if h.Key == name {
			return h.Value, true
		}
	}
	return "", false
}

// metric returns the value of a counter in reg (0 if absent).
func metric(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.Metric {
			for _, lp := range m.Label {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
