package envoysim

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	procv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/proxycache"
)

// extProcCache is a proxy_cache content: 200 kept 60 s, keyed by the
// query parameter page and X-Tenant, X-Keep replayed.
const extProcCache = `{"cache_key":{"parameters":["page"],"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}],"cacheable_headers":["X-Keep"]}`

// extProcFixture is an Envoy whose route /c enables an ext_proc filter
// (disabled in the HCM) with a cache scope as initial metadata, and whose
// route /plain does not; both go to a backend that counts its calls and
// answers with the query's status, length and headers. The ext_proc
// cluster points at apigw's real cache server (package proxycache), or at
// addr when it is not empty.
func extProcFixture(t *testing.T, addr string, allow bool, timeout time.Duration) (*Envoy, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		q := r.URL.Query()
		for _, h := range []string{"cache-control", "set-cookie"} {
			if v := q.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Keep", "kept")
		w.Header().Set("X-Drop", "dropped")
		status := http.StatusOK
		if s := q.Get("status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		body := `{"call":` + strconv.Itoa(int(n)) + `}`
		if l, err := strconv.Atoi(q.Get("len")); err == nil {
			body += strings.Repeat(" ", l-len(body))
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(up.Close)
	content := &apigwv1.ProxyCacheContent{}
	plugin := &apigwv1.Plugin{Id: "pc", PluginName: "pc", PluginType: model.PluginProxyCache, PluginScope: "global", PluginContent: extProcCache}
	if c := model.ProxyCacheContentOf(plugin); c != nil {
		content = c
	} else {
		t.Fatal("content does not decode")
	}
	if addr == "" {
		feed := live.NewFeed()
		feed.Publish(live.NewSnapshot(1, map[string]*model.Instance{model.DefaultInstance: model.NewInstance(model.DefaultInstance, []proto.Message{plugin})}, nil))
		s := grpc.NewServer()
		proxycache.New(feed, nil).Register(s)
		addr = testutil.ServeGRPC(t, s)
	}
	per := &extprocv3.ExtProcPerRoute{Override: &extprocv3.ExtProcPerRoute_Overrides{Overrides: &extprocv3.ExtProcOverrides{
		GrpcInitialMetadata: []*corev3.HeaderValue{{Key: dataplane.CacheScopeHeader, Value: "c;content=" + model.ProxyCacheContentHash(content)}},
	}}}
	rc := &routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"*"}, Routes: []*routev3.Route{
		{Name: "c", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/c"}}, Action: toCluster("up"),
			TypedPerFilterConfig: map[string]*anypb.Any{"envoy.filters.http.ext_proc": anyOf(t, &routev3.FilterConfig{Config: anyOf(t, per)})}},
		{Name: "plain", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, Action: toCluster("up")},
	}}}}
	ep := &extprocv3.ExternalProcessor{
		GrpcService:      &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "cache"}}},
		FailureModeAllow: allow,
		ProcessingMode: &extprocv3.ProcessingMode{RequestHeaderMode: extprocv3.ProcessingMode_SEND, ResponseHeaderMode: extprocv3.ProcessingMode_SEND,
			ResponseBodyMode: extprocv3.ProcessingMode_BUFFERED_PARTIAL, RequestTrailerMode: extprocv3.ProcessingMode_SKIP, ResponseTrailerMode: extprocv3.ProcessingMode_SKIP},
		MessageTimeout:         durationpb.New(timeout),
		DisableClearRouteCache: true,
	}
	hcm := &hcmv3.HttpConnectionManager{StatPrefix: "http",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "rc"}},
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: "envoy.filters.http.ext_proc", Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, ep)}},
			{Name: filterRouter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, &routerv3.Router{})}},
		}}
	cfg := newConfig()
	cfg.Listeners["l"] = &listenerv3.Listener{Name: "l", Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: anyOf(t, hcm)}}}}}}
	cfg.Routes["rc"] = rc
	cfg.Clusters["up"] = staticCluster("up", up.Listener.Addr().String())
	cfg.Clusters["cache"] = staticCluster("cache", addr)
	for _, m := range []proto.Message{cfg.Listeners["l"], rc} {
		if err := ValidateDeep(m); err != nil {
			t.Fatal(err)
		}
	}
	e := New(StaticConfig(cfg), Options{})
	t.Cleanup(e.Close)
	return e, &calls
}

func serveGet(t *testing.T, e *Envoy, path string, h http.Header) *Response {
	t.Helper()
	r, err := e.Serve(context.Background(), &Request{Method: http.MethodGet, Path: path, Host: "api.test", Header: h})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A route that enables the ext_proc filter reaches apigw's cache: the
// first request goes to the backend and is stored from the response
// headers and buffered body, the second is the cache's immediate response
// (stored status, body, content-type and cacheable headers only). A route
// without the per-route config never opens a stream.
func TestExtProcCacheMissThenHit(t *testing.T) {
	e, calls := extProcFixture(t, "", true, 200*time.Millisecond)
	first := serveGet(t, e, "/c?page=1&x=1", http.Header{"X-Tenant": {"a"}})
	second := serveGet(t, e, "/c?x=2&page=1", http.Header{"X-Tenant": {"a"}})
	if calls.Load() != 1 || first.Status != 200 || second.Status != 200 || string(second.Body) != string(first.Body) {
		t.Fatalf("calls %d\nfirst %v\nsecond %v", calls.Load(), first, second)
	}
	if second.Header.Get("Content-Type") != "application/json" || second.Header.Get("X-Keep") != "kept" || second.Header.Get("X-Drop") != "" || second.Details != "proxy_cache_hit" {
		t.Errorf("hit headers %v details %q", second.Header, second.Details)
	}
	if first.Header.Get("X-Drop") != "dropped" {
		t.Errorf("the backend's answer lost a header: %v", first.Header)
	}
	// Other key values are other entries.
	serveGet(t, e, "/c?page=2", http.Header{"X-Tenant": {"a"}})
	serveGet(t, e, "/c?page=1", http.Header{"X-Tenant": {"b"}})
	if calls.Load() != 3 {
		t.Fatalf("calls %d, want 3", calls.Load())
	}
	// No per-route config: the filter stays disabled.
	serveGet(t, e, "/plain", nil)
	serveGet(t, e, "/plain", nil)
	if calls.Load() != 5 {
		t.Fatalf("calls %d, want 5", calls.Load())
	}
}

// BUFFERED_PARTIAL: a body over the buffer limit (1 MiB) reaches the
// cache incomplete, is not stored and reaches the client whole.
func TestExtProcPartialBodyNotStored(t *testing.T) {
	e, calls := extProcFixture(t, "", true, 200*time.Millisecond)
	path := "/c?page=big&len=" + strconv.Itoa(defaultConnBufferLimit+10)
	for range 2 {
		if r := serveGet(t, e, path, nil); len(r.Body) != defaultConnBufferLimit+10 {
			t.Fatalf("body %d bytes", len(r.Body))
		}
	}
	if calls.Load() != 2 {
		t.Fatalf("calls %d, want 2 (not stored)", calls.Load())
	}
}

// A cache that is down or slow: failure_mode_allow lets the request reach
// the backend; without it Envoy answers 500 (504 on message_timeout).
func TestExtProcFailureMode(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	_ = l.Close()
	e, calls := extProcFixture(t, down, true, 200*time.Millisecond)
	if r := serveGet(t, e, "/c?page=1", nil); r.Status != 200 || calls.Load() != 1 {
		t.Fatalf("cache down, failure_mode_allow: %v (calls %d)", r, calls.Load())
	}
	e, calls = extProcFixture(t, down, false, 200*time.Millisecond)
	if r := serveGet(t, e, "/c?page=1", nil); r.Status != 500 || calls.Load() != 0 {
		t.Fatalf("cache down, fail closed: %v (calls %d)", r, calls.Load())
	}
	s := grpc.NewServer()
	procv3.RegisterExternalProcessorServer(s, slowProcessor{})
	slow := testutil.ServeGRPC(t, s)
	e, calls = extProcFixture(t, slow, false, 50*time.Millisecond)
	if r := serveGet(t, e, "/c?page=1", nil); r.Status != 504 || calls.Load() != 0 {
		t.Fatalf("slow cache, fail closed: %v (calls %d)", r, calls.Load())
	}
	e, calls = extProcFixture(t, slow, true, 50*time.Millisecond)
	if r := serveGet(t, e, "/c?page=1", nil); r.Status != 200 || calls.Load() != 1 {
		t.Fatalf("slow cache, failure_mode_allow: %v (calls %d)", r, calls.Load())
	}
}

// slowProcessor never answers in time.
type slowProcessor struct {
	procv3.UnimplementedExternalProcessorServer
}

func (slowProcessor) Process(s procv3.ExternalProcessor_ProcessServer) error {
	if _, err := s.Recv(); err != nil {
		return err
	}
	select {
	case <-s.Context().Done():
	case <-time.After(5 * time.Second):
	}
	return nil
}
