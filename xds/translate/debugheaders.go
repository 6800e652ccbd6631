package translate

import (
	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	matchingv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/matching/v3"
	skipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/matcher/action/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/apigw/apigw/dataplane"
)

// filterDebugLatency is the name of the HTTP filter adding the latency
// headers of debug mode.
const filterDebugLatency = "apigw.debug_latency"

// debugLatencyFilter adds X-Apig-Latency (ms from the request's start to
// the backend's response headers) and X-Apig-Upstream-Latency (ms from
// the request sent to the backend to its response headers) to responses of
// requests with X-Apig-Mode: debug. It is a header_mutation filter wrapped
// in a matcher that skips it for other requests; Envoy leaves a header out
// when its value cannot be computed, so responses that no backend produced
// (mocks, gateway errors) carry neither.
func debugLatencyFilter() (*matchingv3.ExtensionWithMatcher, error) {
	set := func(k, v string) *mutationrulesv3.HeaderMutation {
		return &mutationrulesv3.HeaderMutation{Action: &mutationrulesv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{
			Header: &corev3.HeaderValue{Key: k, Value: v}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		}}}
	}
	hm, err := toAny(&headermutationv3.HeaderMutation{Mutations: &headermutationv3.Mutations{ResponseMutations: []*mutationrulesv3.HeaderMutation{
		set(dataplane.DebugLatencyHeader, "%RESPONSE_DURATION%"),
		set(dataplane.DebugLatencyUpstreamHeader, "%COMMON_DURATION(US_TX_BEG:US_RX_BEG:ms)%"),
	}}})
	if err != nil {
		return nil, err
	}
	input, err := toAny(&matcherv3.HttpRequestHeaderMatchInput{HeaderName: dataplane.DebugLatencyModeHeader})
	if err != nil {
		return nil, err
	}
	skip, err := toAny(&skipv3.SkipFilter{})
	if err != nil {
		return nil, err
	}
	notDebug := &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_NotMatcher{
		NotMatcher: &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{
			SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
				Input: &xdscorev3.TypedExtensionConfig{Name: "envoy.matching.inputs.request_headers", TypedConfig: input},
				Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: &xdsmatcherv3.StringMatcher{
					MatchPattern: &xdsmatcherv3.StringMatcher_Exact{Exact: dataplane.DebugLatencyModeValue}, IgnoreCase: true,
				}},
			},
		}},
	}}
	f := &matchingv3.ExtensionWithMatcher{
		ExtensionConfig: &corev3.TypedExtensionConfig{Name: "envoy.filters.http.header_mutation", TypedConfig: hm},
		XdsMatcher: &xdsmatcherv3.Matcher{MatcherType: &xdsmatcherv3.Matcher_MatcherList_{MatcherList: &xdsmatcherv3.Matcher_MatcherList{
			Matchers: []*xdsmatcherv3.Matcher_MatcherList_FieldMatcher{{
				Predicate: notDebug,
				OnMatch: &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{Action: &xdscorev3.TypedExtensionConfig{
					Name: "skip", TypedConfig: skip,
				}}},
			}},
		}}},
	}
	return f, validate(f)
}
