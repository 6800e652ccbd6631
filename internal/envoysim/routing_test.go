package envoysim

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestVirtualHostSelection(t *testing.T) {
	rc := &routev3.RouteConfiguration{IgnorePortInHostMatching: true, VirtualHosts: []*routev3.VirtualHost{
		{Name: "exact", Domains: []string{"api.example.com"}},
		{Name: "suffix", Domains: []string{"*.example.com"}},
		{Name: "longer-suffix", Domains: []string{"*.shop.example.com"}},
		{Name: "prefix", Domains: []string{"api.*"}},
		{Name: "any", Domains: []string{"*"}},
	}}
	for host, want := range map[string]string{
		"api.example.com":      "exact",
		"API.Example.com:8080": "exact",
		"x.example.com":        "suffix",
		"a.shop.example.com":   "longer-suffix",
		"api.other.org":        "prefix",
		"other.org":            "any",
	} {
		if got := virtualHost(rc, host); got.GetName() != want {
			t.Errorf("%s: %s, want %s", host, got.GetName(), want)
		}
	}
	rc.IgnorePortInHostMatching = false
	if got := virtualHost(rc, "api.example.com:8080"); got.GetName() != "prefix" {
		t.Errorf("with the port: %s, want prefix (api.*)", got.GetName())
	}
}

func TestScopedRoutes(t *testing.T) {
	c := newConfig()
	c.Routes["rc1"] = &routev3.RouteConfiguration{Name: "rc1"}
	c.Scopes["s1"] = &routev3.ScopedRouteConfiguration{Name: "s1", RouteConfigurationName: "rc1",
		Key: &routev3.ScopedRouteConfiguration_Key{Fragments: []*routev3.ScopedRouteConfiguration_Key_Fragment{{Type: &routev3.ScopedRouteConfiguration_Key_Fragment_StringKey{StringKey: "api.example.com"}}}}}
	h := &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: &hcmv3.ScopedRoutes{
		ScopeKeyBuilder: &hcmv3.ScopedRoutes_ScopeKeyBuilder{Fragments: []*hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder{{
			Type: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_{HeaderValueExtractor: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor{
				Name: ":authority", ElementSeparator: ":", ExtractType: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_Index{Index: 0}}}}}}}}}
	for host, want := range map[string]string{"api.example.com": "rc1", "api.example.com:8080": "rc1", "API.example.com": "", "other": ""} {
		rc, err := c.routeConfig(h, headers(":authority", host))
		if err != nil || rc.GetName() != want {
			t.Errorf("%s: %q, %v; want %q", host, rc.GetName(), err, want)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	h := &hcmv3.HttpConnectionManager{MergeSlashes: true, PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD}
	h.NormalizePath = boolValue(true)
	for in, want := range map[string]string{
		"/a/./b/../c":     "/a/c",
		"//a///b?x=//":    "/a/b?x=//",
		"/a%2Fb":          "/a/b",
		"/a/b/..":         "/a/",
		"/../../etc":      "/etc",
		"/pets?limit=5&a": "/pets?limit=5&a",
	} {
		if got := normalizePath(h, in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func boolValue(v bool) *wrapperspb.BoolValue { return wrapperspb.Bool(v) }
