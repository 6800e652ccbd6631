package envoysim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matchingv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/matching/v3"
	skipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/matcher/action/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cache/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	simplecachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/cache/simple_http_cache/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
)

// cacheFixture is an Envoy whose only route goes through the cache filter
// (x-t allowed in Vary) to a backend that answers with the status and
// headers the query asks for and counts its calls.
// Filters in extra run between the cache and the router.
func cacheFixture(t *testing.T, extra ...*hcmv3.HttpFilter) (*Envoy, *atomic.Int32) {
	t.Helper()
	return cacheFixtureRoute(t, nil, extra...)
}

// cacheFixtureRoute is cacheFixture whose route mod changes. The backend
// answers with the path and x-route header it received (x-got-path,
// x-got-route).
func cacheFixtureRoute(t *testing.T, mod func(*routev3.Route), extra ...*hcmv3.HttpFilter) (*Envoy, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		q := r.URL.Query()
		w.Header().Set("x-got-path", r.URL.Path)
		w.Header().Set("x-got-route", r.Header.Get("x-route"))
		for _, h := range []string{"cache-control", "vary", "expires", "set-cookie"} {
			if v := q.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		status := http.StatusOK
		if s := q.Get("status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		body := "call " + strconv.Itoa(int(n))
		if l, err := strconv.Atoi(q.Get("len")); err == nil {
			body += strings.Repeat(".", l-len(body))
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		w.WriteHeader(status)
		if q.Has("chunked") {
			w.(http.Flusher).Flush() // no Content-Length: chunked
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(up.Close)
	rc := &routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"*"}, Routes: []*routev3.Route{
		{Name: "c", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, Action: toCluster("up")},
	}}}}
	if mod != nil {
		mod(rc.VirtualHosts[0].Routes[0])
	}
	cache := &cachev3.CacheConfig{TypedConfig: anyOf(t, &simplecachev3.SimpleHttpCacheConfig{}),
		AllowedVaryHeaders: []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "x-t"}}}}
	hcm := &hcmv3.HttpConnectionManager{StatPrefix: "http", AlwaysSetRequestIdInResponse: true,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "rc"}},
		HttpFilters: append(append([]*hcmv3.HttpFilter{
			{Name: "envoy.filters.http.cache", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, cache)}},
		}, extra...),
			&hcmv3.HttpFilter{Name: filterRouter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, &routerv3.Router{})}},
		)}
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

// sizeFilter is a match_delegate filter adding "cache-control: no-store"
// unless the response's content-length has at most two digits (as apigw's
// size filter does for 1 MiB).
func sizeFilter(t *testing.T) *hcmv3.HttpFilter {
	small := &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{
		SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
			Input: &xdscorev3.TypedExtensionConfig{Name: "cl", TypedConfig: anyOf(t, &matcherv3.HttpResponseHeaderMatchInput{HeaderName: "content-length"})},
			Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: &xdsmatcherv3.StringMatcher{
				MatchPattern: &xdsmatcherv3.StringMatcher_SafeRegex{SafeRegex: &xdsmatcherv3.RegexMatcher{
					EngineType: &xdsmatcherv3.RegexMatcher_GoogleRe2{GoogleRe2: &xdsmatcherv3.RegexMatcher_GoogleRE2{}}, Regex: "[0-9]{1,2}"}},
			}},
		},
	}}
	noStore := &headermutationv3.HeaderMutation{Mutations: &headermutationv3.Mutations{ResponseMutations: []*mutationrulesv3.HeaderMutation{{
		Action: &mutationrulesv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: "cache-control", Value: "no-store"}, AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD}},
	}}}}
	size := &matchingv3.ExtensionWithMatcher{
		XdsMatcher: &xdsmatcherv3.Matcher{MatcherType: &xdsmatcherv3.Matcher_MatcherList_{MatcherList: &xdsmatcherv3.Matcher_MatcherList{
			Matchers: []*xdsmatcherv3.Matcher_MatcherList_FieldMatcher{{
				Predicate: small,
				OnMatch:   &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{Action: &xdscorev3.TypedExtensionConfig{Name: "skip", TypedConfig: anyOf(t, &skipv3.SkipFilter{})}}},
			}},
		}}},
		ExtensionConfig: &corev3.TypedExtensionConfig{Name: "envoy.filters.http.header_mutation", TypedConfig: anyOf(t, noStore)},
	}
	return &hcmv3.HttpFilter{Name: "size", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, size)}}
}

// As in Envoy since 1.33, the cache filter sends a cacheable request it
// does not find itself, to the route's cluster: the backend gets the
// request without the route's prefix_rewrite and request headers, and the
// response is stored and answered without the route's response headers
// nor the filters after the cache (here a size filter that would have
// made it no-store). A request the cache does not serve (POST) goes down
// the filter chain and through the router: the rewrite, the headers and
// the filter act, the latter reading the backend's content-length (none
// when chunked).
func TestCacheFilterFetchesMissesItself(t *testing.T) {
	route := func(r *routev3.Route) {
		r.GetRoute().PrefixRewrite = "/rewritten/"
		r.RequestHeadersToAdd = []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-route", Value: "1"}}}
		r.ResponseHeadersToAdd = []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-route-resp", Value: "1"}}}
	}
	for _, tc := range []struct {
		name, method, path string
		cached             bool
		noStore            bool
	}{
		{"cacheable, long", http.MethodGet, "/s?cache-control=max-age%3D60&len=100", true, false},
		{"cacheable, chunked", http.MethodGet, "/s?cache-control=max-age%3D60&chunked", true, false},
		{"not cacheable, short", http.MethodPost, "/s?cache-control=max-age%3D60&len=20", false, false},
		{"not cacheable, long", http.MethodPost, "/s?cache-control=max-age%3D60&len=100", false, true},
		{"not cacheable, chunked", http.MethodPost, "/s?cache-control=max-age%3D60&chunked", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, calls := cacheFixtureRoute(t, route, sizeFilter(t))
			var last *Response
			for range 2 {
				r, err := e.Serve(context.Background(), &Request{Method: tc.method, Path: tc.path, Host: "api.test"})
				if err != nil {
					t.Fatal(err)
				}
				last = r
			}
			if hit := calls.Load() == 1; hit != tc.cached {
				t.Fatalf("backend calls %d, want cached=%v", calls.Load(), tc.cached)
			}
			if noStore := strings.Contains(strings.Join(last.Header.Values("cache-control"), ","), "no-store"); noStore != tc.noStore {
				t.Errorf("cache-control %q, want no-store %v", last.Header.Values("cache-control"), tc.noStore)
			}
			wantPath, wantRoute, wantResp := "/rewritten/s", "1", "1"
			if tc.cached {
				wantPath, wantRoute, wantResp = "/s", "", ""
			}
			if got := last.Header.Get("x-got-path"); got != wantPath {
				t.Errorf("backend path %q, want %q", got, wantPath)
			}
			if got := last.Header.Get("x-got-route"); got != wantRoute {
				t.Errorf("backend x-route %q, want %q", got, wantRoute)
			}
			if got := last.Header.Get("x-route-resp"); got != wantResp {
				t.Errorf("x-route-resp %q, want %q", got, wantResp)
			}
		})
	}
}

// A route without a cluster (a direct response) cannot be fetched by the
// cache filter: a cacheable request gets 404 cache_no_route.
func TestCacheFilterDirectResponseRoute(t *testing.T) {
	e, _ := cacheFixtureRoute(t, func(r *routev3.Route) {
		r.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200}}
	})
	r, err := e.Serve(context.Background(), &Request{Method: http.MethodGet, Path: "/m", Host: "api.test"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusNotFound || r.Details != "cache_no_route" {
		t.Errorf("status %d details %q, want 404 cache_no_route", r.Status, r.Details)
	}
}
