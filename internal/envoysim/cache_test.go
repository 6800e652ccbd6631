package envoysim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cache/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	simplecachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/cache/simple_http_cache/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
)

// cacheFixture is an Envoy whose only route goes through the cache filter
// (x-t allowed in Vary) to a backend that answers with the status and
// headers the query asks for and counts its calls.
func cacheFixture(t *testing.T) (*Envoy, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		q := r.URL.Query()
		for _, h := range []string{"cache-control", "vary", "expires", "set-cookie"} {
			if v := q.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		status := http.StatusOK
		if s := q.Get("status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte("call " + strconv.Itoa(int(n))))
	}))
	t.Cleanup(up.Close)
	rc := &routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"*"}, Routes: []*routev3.Route{
		{Name: "c", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, Action: toCluster("up")},
	}}}}
	cache := &cachev3.CacheConfig{TypedConfig: anyOf(t, &simplecachev3.SimpleHttpCacheConfig{}),
		AllowedVaryHeaders: []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "x-t"}}}}
	hcm := &hcmv3.HttpConnectionManager{StatPrefix: "http", AlwaysSetRequestIdInResponse: true,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "rc"}},
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: "envoy.filters.http.cache", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, cache)}},
			{Name: filterRouter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, &routerv3.Router{})}},
		}}
	cfg := newConfig()
	cfg.Listeners["l"] = &listenerv3.Listener{Name: "l", Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: anyOf(t, hcm)}}}}}}
	cfg.Routes["rc"] = rc
	cfg.Clusters["up"] = staticCluster("up", up.Listener.Addr().String())
	for _, m := range []proto.Message{cfg.Listeners["l"], rc} {
		if err := ValidateDeep(m); err != nil {
			t.Fatal(err)
		}
	}
	e := New(StaticConfig(cfg), Options{})
	t.Cleanup(e.Close)
	return e, &calls
}

// The emulated cache stores what Envoy's cacheability rules allow and
// answers repeated requests from it.
func TestCacheFilter(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		hdr        http.Header
		method     string
		cached     bool
	}{
		{name: "max-age", path: "/a?cache-control=max-age%3D60", cached: true},
		{name: "s-maxage", path: "/a?cache-control=public,s-maxage%3D60", cached: true},
		{name: "no validation data", path: "/a?x=1", cached: false},
		{name: "no-store", path: "/a?cache-control=no-store,max-age%3D60", cached: false},
		{name: "private", path: "/a?cache-control=private,max-age%3D60", cached: false},
		{name: "stale at once", path: "/a?cache-control=max-age%3D0", cached: false},
		{name: "status Envoy does not store", path: "/a?cache-control=max-age%3D60&status=202", cached: false},
		{name: "404 with max-age", path: "/a?cache-control=max-age%3D60&status=404", cached: true},
		{name: "vary allowed", path: "/a?cache-control=max-age%3D60&vary=X-T", hdr: http.Header{"X-T": {"1"}}, cached: true},
		{name: "vary not allowed", path: "/a?cache-control=max-age%3D60&vary=X-Other", cached: false},
		{name: "authorization bypasses", path: "/a?cache-control=max-age%3D60&auth", hdr: http.Header{"Authorization": {"Basic eDp5"}}, cached: false},
		{name: "conditional bypasses", path: "/a?cache-control=max-age%3D60&cond", hdr: http.Header{"If-None-Match": {`"x"`}}, cached: false},
		{name: "post not cached", path: "/a?cache-control=max-age%3D60&post", method: http.MethodPost, cached: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, calls := cacheFixture(t)
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			var last *Response
			for range 2 {
				r, err := e.Serve(context.Background(), &Request{Method: method, Path: tc.path, Host: "api.test", Header: tc.hdr.Clone()})
				if err != nil {
					t.Fatal(err)
				}
				last = r
			}
			hit := calls.Load() == 1
			if hit != tc.cached {
				t.Fatalf("backend calls %d, want cached=%v (%v)", calls.Load(), tc.cached, last)
			}
			if hit && (last.Header.Get("Age") == "" || last.Details != "cache.response_from_cache_filter" || len(last.Flags) != 1 || last.Flags[0] != "RFCF" || string(last.Body) != "call 1") {
				t.Errorf("hit: %v %v", last, last.Header)
			}
		})
	}
}

// Entries vary on the allowed headers the response names, absence
// included; HEAD is answered from a GET's entry.
func TestCacheFilterVaryAndHead(t *testing.T) {
	e, calls := cacheFixture(t)
	get := func(method string, hdr http.Header) *Response {
		t.Helper()
		r, err := e.Serve(context.Background(), &Request{Method: method, Path: "/v?cache-control=max-age%3D60&vary=x-t", Host: "api.test", Header: hdr})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i, tc := range []struct {
		method string
		hdr    http.Header
		calls  int32
	}{
		{http.MethodGet, http.Header{"X-T": {"a"}}, 1},
		{http.MethodGet, http.Header{"X-T": {"a"}}, 1},
		{http.MethodGet, http.Header{"X-T": {"b"}}, 2},
		{http.MethodGet, nil, 3},
		{http.MethodGet, nil, 3},
		{http.MethodHead, http.Header{"X-T": {"b"}}, 3},
	} {
		r := get(tc.method, tc.hdr)
		if calls.Load() != tc.calls {
			t.Fatalf("request %d (%s %v): backend calls %d, want %d", i, tc.method, tc.hdr, calls.Load(), tc.calls)
		}
		if tc.method == http.MethodHead && len(r.Body) != 0 {
			t.Errorf("HEAD answered with a body %q", r.Body)
		}
	}
}
