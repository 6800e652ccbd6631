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

// A match_delegate filter after the cache reads the content-length the
// response has in Envoy's filter chain: the backend's own, none when it
// sent the body chunked. Here it adds no-store unless the length has at
// most two digits (as apigw's size filter does for 1 MiB), so only the
// short response with a Content-Length is stored.
func TestCacheFilterSeesTheBackendsContentLength(t *testing.T) {
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
	for _, tc := range []struct {
		name, path string
		cached     bool
	}{
		{"short with content-length", "/s?cache-control=max-age%3D60&len=20", true},
		{"long with content-length", "/s?cache-control=max-age%3D60&len=100", false},
		{"chunked", "/s?cache-control=max-age%3D60&chunked", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, calls := cacheFixture(t, &hcmv3.HttpFilter{Name: "size", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, size)}})
			var last *Response
			for range 2 {
				r, err := e.Serve(context.Background(), &Request{Method: http.MethodGet, Path: tc.path, Host: "api.test"})
				if err != nil {
					t.Fatal(err)
				}
				last = r
			}
			if hit := calls.Load() == 1; hit != tc.cached {
				t.Fatalf("backend calls %d, want cached=%v (cache-control %q)", calls.Load(), tc.cached, last.Header.Values("cache-control"))
			}
			if noStore := strings.Contains(strings.Join(last.Header.Values("cache-control"), ","), "no-store"); noStore == tc.cached {
				t.Errorf("cache-control %q", last.Header.Values("cache-control"))
			}
		})
	}
}
