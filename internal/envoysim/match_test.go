package envoysim

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func exact(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}
}

func regex(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: s}}}
}

func headers(kv ...string) *Headers {
	h := &Headers{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestMatchHeader(t *testing.T) {
	stage := &routev3.HeaderMatcher{Name: "x-stage", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: regex(`^(?:RELEASE)?$`)}, TreatMissingHeaderAsEmpty: true}
	present := func(v, invert bool) *routev3.HeaderMatcher {
		return &routev3.HeaderMatcher{Name: "x-a", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: v}, InvertMatch: invert}
	}
	method := &routev3.HeaderMatcher{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact("GET")}}
	for _, c := range []struct {
		name string
		m    *routev3.HeaderMatcher
		h    *Headers
		want bool
	}{
		{"stage missing treated as empty", stage, headers(), true},
		{"stage RELEASE", stage, headers("X-Stage", "RELEASE"), true},
		{"stage TEST", stage, headers("x-stage", "TEST"), false},
		{"regex is anchored", stage, headers("x-stage", "RELEASEX"), false},
		{"present, missing", present(true, false), headers(), false},
		{"present, there", present(true, false), headers("x-a", ""), true},
		{"absent, missing", present(false, false), headers(), true},
		{"inverted present, missing", present(true, true), headers(), true},
		{"string match on a missing header", method, headers(), false},
		{"method", method, headers(":method", "GET"), true},
		{"repeated values are joined", &routev3.HeaderMatcher{Name: "x-a", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact("1,2")}}, headers("x-a", "1", "x-a", "2"), true},
		{"ignore case", &routev3.HeaderMatcher{Name: "x-apig-mode", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "debug"}, IgnoreCase: true}}}, headers("X-Apig-Mode", "DEBUG"), true},
	} {
		got, err := matchHeader(c.m, c.h)
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestMatchQuery(t *testing.T) {
	m := &routev3.QueryParameterMatcher{Name: "region", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: exact("eu west")}}
	for q, want := range map[string]bool{"region=eu%20west": true, "region=eu+west&x=1": true, "region=us": false, "": false, "a=1&region=eu%20west&region=us": true} {
		if got, err := matchQuery(m, q); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", q, got, err, want)
		}
	}
}

func TestRouteMatchPaths(t *testing.T) {
	for _, c := range []struct {
		m    *routev3.RouteMatch
		path string
		want bool
	}{
		{&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/test/AA"}}, "/test/AA", true},
		{&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/test/AA"}}, "/test/AA/CC?x=1", true},
		{&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/test/AA"}}, "/test/AACC", false},
		{&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/pets"}}, "/pets?limit=1", true},
		{&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/pets"}}, "/Pets", false},
		{&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/pets"}, CaseSensitive: wrapperspb.Bool(false)}, "/Pets", true},
		{&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, "/anything", true},
	} {
		got, err := routeMatches(c.m, headers(":path", c.path))
		if err != nil || got != c.want {
			t.Errorf("%v on %s: %v, %v; want %v", c.m, c.path, got, err, c.want)
		}
	}
	if _, err := routeMatches(&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}, Grpc: &routev3.RouteMatch_GrpcRouteMatchOptions{}}, headers(":path", "/")); err == nil {
		t.Error("a gRPC matcher should be reported as not emulated")
	}
}

// Routes with increasing cumulative runtime_fraction numerators, matched
// against one random value, partition the values; a runtime key is refused
// (no runtime is emulated).
func TestRuntimeFractionSplitsOnOneValue(t *testing.T) {
	frac := func(n uint32) *corev3.RuntimeFractionalPercent {
		return &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: n, Denominator: typev3.FractionalPercent_MILLION}}
	}
	for _, c := range []struct {
		random uint64
		first  bool // below 750000: the first route; else only the second
	}{{0, true}, {749_999, true}, {750_000, false}, {999_999, false}, {1_000_000 + 10, true}} {
		a, err := runtimeFractionMatches(frac(750_000), c.random)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := runtimeFractionMatches(frac(1_000_000), c.random)
		if a != c.first || !b {
			t.Errorf("random %d: first %v second %v, want first %v and second true", c.random, a, b, c.first)
		}
	}
	f := frac(1)
	f.RuntimeKey = "routing.split"
	if _, err := runtimeFractionMatches(f, 0); err == nil {
		t.Error("a runtime key was accepted")
	}
}
