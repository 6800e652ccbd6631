package proxycache_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	itest "github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/proxycache"
)

const content = `{"cache_key":{"parameters":["page","size"],"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60},{"http_status":[404],"ttl":5}],"cacheable_headers":["X-Keep"]}`

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	feed   *live.Feed
	srv    *proxycache.Server
	client extprocv3.ExternalProcessorClient
	clock  *clock
	reg    *prometheus.Registry
}

func plugin(c string) *apigwv1.Plugin {
	return &apigwv1.Plugin{Id: "pc", PluginName: "pc", PluginType: model.PluginProxyCache, PluginScope: "global", PluginContent: c}
}

func publish(f *live.Feed, rev int64, c string) {
	f.Publish(live.NewSnapshot(rev, map[string]*model.Instance{model.DefaultInstance: model.NewInstance(model.DefaultInstance, []proto.Message{plugin(c)})}, nil))
}

func scope(route, c string) string {
	return route + ";content=" + model.ProxyCacheContentHash(model.ProxyCacheContentOf(plugin(c)))
}

func newFixture(t *testing.T, opts ...proxycache.Option) *fixture {
	t.Helper()
	f := &fixture{feed: live.NewFeed(), clock: &clock{t: time.Unix(1_700_000_000, 0)}, reg: prometheus.NewRegistry()}
	publish(f.feed, 1, content)
	f.srv = proxycache.New(f.feed, nil, append([]proxycache.Option{proxycache.WithClock(f.clock.now), proxycache.WithRegisterer(f.reg)}, opts...)...)
	go f.srv.Run(t.Context())
	s := grpc.NewServer()
	f.srv.Register(s)
	addr := itest.ServeGRPC(t, s)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f.client = extprocv3.NewExternalProcessorClient(conn)
	return f
}

func hmap(kv ...string) *corev3.HeaderMap {
	m := &corev3.HeaderMap{}
	for i := 0; i < len(kv); i += 2 {
		m.Headers = append(m.Headers, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
	}
	return m
}

// backend is the response a miss gets.
type backend struct {
	headers []string // :status first
	body    string
	partial bool // the body exceeded Envoy's buffer (end_of_stream false)
}

func ok200(body string, extra ...string) backend {
	return backend{headers: append([]string{":status", "200", "content-type", "application/json", "x-keep", "k", "x-drop", "d"}, extra...), body: body}
}

// do plays Envoy for one request: the request headers, then on a miss the
// backend's response headers and body. It returns the immediate response
// of a hit, or nil.
func (f *fixture) do(t *testing.T, sc string, req []string, be backend) *extprocv3.ImmediateResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if sc != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, dataplane.CacheScopeHeader, sc)
	}
	st, err := f.client.Process(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.CloseSend()
	recv := func(req *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
		t.Helper()
		if err := st.Send(req); err != nil {
			t.Fatal(err)
		}
		r, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := recv(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: hmap(req...), EndOfStream: true}}})
	if ir := r.GetImmediateResponse(); ir != nil {
		return ir
	}
	if r.GetRequestHeaders() == nil {
		t.Fatalf("answer to request headers: %v", r)
	}
	r = recv(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: hmap(be.headers...), EndOfStream: be.body == ""}}})
	if r.GetResponseHeaders() == nil {
		t.Fatalf("answer to response headers: %v", r)
	}
	if be.body != "" {
		r = recv(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: []byte(be.body), EndOfStream: !be.partial}}})
		if r.GetResponseBody() == nil {
			t.Fatalf("answer to response body: %v", r)
		}
	}
	return nil
}

func get(path string, kv ...string) []string {
	return append([]string{":method", "GET", ":path", path, ":authority", "api.test"}, kv...)
}

// A miss is stored from the response headers and body; the same key is
// then answered with the stored status, body, content headers and
// cacheable_headers only. The key holds the listed query parameters
// (sorted, others ignored) and the listed headers.
func TestMissThenHitAndKey(t *testing.T) {
	f := newFixture(t)
	sc := scope("r1", content)
	if hit := f.do(t, sc, get("/a?page=1&size=2&x=1", "x-tenant", "t1"), ok200(`{"n":1}`)); hit != nil {
		t.Fatalf("first request hit: %v", hit)
	}
	hit := f.do(t, sc, get("/a?x=9&size=2&page=1", "x-tenant", "t1"), ok200("never"))
	if hit == nil || hit.GetStatus().GetCode() != 200 || string(hit.GetBody()) != `{"n":1}` {
		t.Fatalf("want a hit, got %v", hit)
	}
	got := map[string]string{}
	for _, h := range hit.GetHeaders().GetSetHeaders() {
		got[h.GetHeader().GetKey()] = string(h.GetHeader().GetRawValue())
	}
	if len(got) != 2 || got["content-type"] != "application/json" || got["x-keep"] != "k" {
		t.Errorf("replayed headers %v, want content-type and x-keep only", got)
	}
	for _, miss := range [][]string{
		get("/a?page=2&size=2", "x-tenant", "t1"),
		get("/a?page=1&size=2", "x-tenant", "t2"),
		get("/a?page=1&size=2"),
		get("/b?page=1&size=2", "x-tenant", "t1"),
		{":method", "HEAD", ":path", "/a?page=1&size=2", "x-tenant", "t1"},
		{":method", "POST", ":path", "/a?page=1&size=2", "x-tenant", "t1"},
		get("/a?page=1&size=2", "x-tenant", "t1", "authorization", "Basic eDp5"),
	} {
		if hit := f.do(t, sc, miss, ok200("other")); hit != nil {
			t.Errorf("%v: hit %v", miss, hit)
		}
	}
	// Another route (scope) never shares entries.
	if hit := f.do(t, scope("r2", content), get("/a?page=1&size=2", "x-tenant", "t1"), ok200("r2")); hit != nil {
		t.Errorf("another route hit: %v", hit)
	}
}

// What is not stored: a status without a ttl rule nor max-age,
// no-store / private / no-cache, Set-Cookie, bodies over 1 MiB or
// incomplete (beyond Envoy's buffer); what is: a listed status, and an
// unlisted cacheable one with the backend's max-age.
func TestWhatIsStored(t *testing.T) {
	big := strings.Repeat("x", model.ProxyCacheMaxBodyBytes+1)
	for _, tc := range []struct {
		name   string
		be     backend
		stored bool
	}{
		{"listed status", ok200("a"), true},
		{"404 rule", backend{headers: []string{":status", "404"}, body: "nf"}, true},
		{"no body", backend{headers: []string{":status", "200"}}, true},
		{"unlisted status", backend{headers: []string{":status", "203"}, body: "a"}, false},
		{"unlisted status with max-age", backend{headers: []string{":status", "203", "cache-control", "max-age=30"}, body: "a"}, true},
		{"uncacheable status with max-age", backend{headers: []string{":status", "500", "cache-control", "max-age=30"}, body: "a"}, false},
		{"no-store", ok200("a", "cache-control", "no-store"), false},
		{"private", ok200("a", "cache-control", "private, max-age=60"), false},
		{"no-cache", ok200("a", "cache-control", "no-cache"), false},
		{"cache-control without max-age", ok200("a", "cache-control", "public"), false},
		{"set-cookie", ok200("a", "set-cookie", "s=1"), false},
		{"content-length over 1 MiB", ok200("a", "content-length", "1048577"), false},
		{"body over 1 MiB", ok200(big), false},
		{"incomplete body", backend{headers: []string{":status", "200"}, body: "part", partial: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			sc := scope("r1", content)
			f.do(t, sc, get("/a"), tc.be)
			hit := f.do(t, sc, get("/a"), ok200("second"))
			if (hit != nil) != tc.stored {
				t.Fatalf("stored = %v, want %v", hit != nil, tc.stored)
			}
		})
	}
}

// An entry lives its ttl (or the backend's max-age, which wins).
func TestLifetime(t *testing.T) {
	f := newFixture(t)
	sc := scope("r1", content)
	f.do(t, sc, get("/ttl"), ok200("a"))
	f.do(t, sc, get("/maxage"), ok200("b", "cache-control", "max-age=120"))
	f.clock.add(59 * time.Second)
	if f.do(t, sc, get("/ttl"), ok200("x")) == nil {
		t.Fatal("expired before its ttl")
	}
	f.clock.add(2 * time.Second)
	if f.do(t, sc, get("/ttl"), ok200("x")) != nil {
		t.Fatal("alive after its ttl")
	}
	if f.do(t, sc, get("/maxage"), ok200("x")) == nil {
		t.Fatal("max-age=120 expired at 61 s")
	}
}

// A changed content drops the old entries (and its new scope never finds
// them); Purge drops a route's entries.
func TestContentChangeAndPurge(t *testing.T) {
	f := newFixture(t)
	sc := scope("r1", content)
	f.do(t, sc, get("/a"), ok200("a"))
	f.do(t, scope("r2", content), get("/a"), ok200("a"))
	if n, _ := f.srv.Len(); n != 2 {
		t.Fatalf("%d entries", n)
	}
	if f.srv.Purge("r2;") != 1 || f.do(t, scope("r2", content), get("/a"), ok200("a")) != nil {
		t.Fatal("purge")
	}
	changed := strings.Replace(content, `"ttl":60`, `"ttl":61`, 1)
	publish(f.feed, 2, changed)
	if f.do(t, scope("r1", changed), get("/a"), ok200("new")) != nil {
		t.Fatal("new content answered from the old entry")
	}
	if f.do(t, sc, get("/a"), ok200("x")) != nil {
		t.Fatal("old scope still answered")
	}
	// Run drops the old entries when it sees the new snapshot.
	n, _ := f.srv.Len()
	for deadline := time.Now().Add(5 * time.Second); n != 1 && time.Now().Before(deadline); n, _ = f.srv.Len() {
		time.Sleep(5 * time.Millisecond)
	}
	if n != 1 {
		t.Fatalf("%d entries, want only the new one", n)
	}
	// An unknown scope (no such content) is never cached.
	f.do(t, "r9;content=000000000000", get("/z"), ok200("z"))
	if f.do(t, "r9;content=000000000000", get("/z"), ok200("z")) != nil {
		t.Fatal("unknown content cached")
	}
}

// The total size is bounded: the least recently used entry goes first.
func TestLRUEviction(t *testing.T) {
	f := newFixture(t, proxycache.WithMaxBytes(3500))
	sc := scope("r1", content)
	body := strings.Repeat("b", 900)
	f.do(t, sc, get("/1"), ok200(body))
	f.do(t, sc, get("/2"), ok200(body))
	f.do(t, sc, get("/3"), ok200(body))
	if f.do(t, sc, get("/1"), ok200("x")) == nil { // /1 used: /2 is now the oldest
		t.Fatal("/1 evicted too early")
	}
	f.do(t, sc, get("/4"), ok200(body))
	if f.do(t, sc, get("/2"), ok200(body)) != nil {
		t.Fatal("/2 not evicted")
	}
	if _, bytes := f.srv.Len(); bytes > 3500 {
		t.Fatalf("%d bytes", bytes)
	}
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	if got["apigw_proxy_cache_evictions_total"] < 1 || got["apigw_proxy_cache_hits_total"] != 1 || got["apigw_proxy_cache_stores_total"] < 4 || got["apigw_proxy_cache_bytes"] <= 0 {
		t.Errorf("metrics %v", got)
	}
}

// client_cache_control: off ignores the client's Cache-Control, all
// honours no-cache (lookup skipped, response stored) and no-store.
func TestClientCacheControl(t *testing.T) {
	f := newFixture(t)
	sc := scope("r1", content)
	f.do(t, sc, get("/a"), ok200("a"))
	if f.do(t, sc, get("/a", "cache-control", "no-cache"), ok200("x")) == nil {
		t.Fatal("mode off: no-cache bypassed the cache")
	}
	all := strings.Replace(content, `"cacheable_headers"`, `"client_cache_control":{"mode":"all"},"cacheable_headers"`, 1)
	publish(f.feed, 2, all)
	sa := scope("r1", all)
	f.do(t, sa, get("/a"), ok200("one"))
	if f.do(t, sa, get("/a", "cache-control", "no-cache"), ok200("two")) != nil {
		t.Fatal("mode all: no-cache answered from the cache")
	}
	if hit := f.do(t, sa, get("/a"), ok200("x")); hit == nil || string(hit.GetBody()) != "two" {
		t.Fatalf("mode all: the revalidated answer was not stored: %v", hit)
	}
	f.do(t, sa, get("/b", "cache-control", "no-store"), ok200("b"))
	if f.do(t, sa, get("/b"), ok200("x")) != nil {
		t.Fatal("mode all: no-store response stored")
	}
}
