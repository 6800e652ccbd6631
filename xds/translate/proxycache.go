package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matchingv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/matching/v3"
	actionv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/matcher/action/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cache/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	simplecachev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/cache/simple_http_cache/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// proxy_cache filters (docs/plugins.md#proxy_cache, docs/xds.md). All are
// in every HCM of an instance that has proxy_cache plug-ins, disabled; the
// routes of an API with a proxy_cache plug-in
// enable those its content needs.
const (
	// filterCacheKey sets dataplane.CacheScopeHeader on the request: the
	// route's name, which the backend's response varies on, so that one
	// route never answers from another route's responses.
	filterCacheKey = "apigw.proxy_cache.key"
	// filterCache is Envoy's cache filter ignoring the client's
	// Cache-Control (client_cache_control mode off), filterCacheClient
	// the same filter honouring it (mode all). Both use the process-wide
	// simple_http_cache.
	filterCache       = "envoy.filters.http.cache"
	filterCacheClient = "apigw.proxy_cache.client"
	// filterCacheTTLPrefix names the filters that give responses of some
	// statuses without a Cache-Control header "cache-control:
	// max-age=<ttl>" (one per distinct rule of the instance's plug-ins).
	filterCacheTTLPrefix = "apigw.proxy_cache.ttl."
	// filterCacheCookie adds "cache-control: no-store" to responses that
	// set a cookie, so that one caller's cookie is never stored and
	// replayed to others (Envoy stores every response header).
	filterCacheCookie = "apigw.proxy_cache.set_cookie"
	// filterCacheSize adds "cache-control: no-store" to responses whose
	// Content-Length is over model.ProxyCacheMaxBodyBytes or absent:
	// Envoy's cache filter has no size limit of its own (max_body_bytes
	// is not implemented).
	filterCacheSize = "apigw.proxy_cache.size"
)

// cachePlan is what a proxy_cache plug-in does to the routes of its API.
type cachePlan struct {
	client  bool     // honour the client's Cache-Control
	ttl     []string // the TTL filters to enable
	headers []string // request headers the key varies on (lower case)
	content string   // cacheContentHash of the plug-in's content
}

func planProxyCache(v *apigwv1.ProxyCacheContent) *cachePlan {
	p := &cachePlan{client: model.ProxyCacheClientControl(v), content: cacheContentHash(v)}
	for _, r := range v.GetCacheHttpStatusAndTtl() {
		p.ttl = append(p.ttl, cacheTTLFilterName(r))
	}
	for _, h := range v.GetCacheKey().GetHeaders() {
		p.headers = append(p.headers, strings.ToLower(h))
	}
	return p
}

// cacheContentHash is a short hash of a proxy_cache content (its
// deterministic protobuf encoding). It is part of the cache scope header,
// which every cached response varies on: when the content changes, the
// routes set another value, so entries stored under the old content are
// never answered again (they stay in memory until their lifetime ends).
func cacheContentHash(v *apigwv1.ProxyCacheContent) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(v)
	if err != nil {
		// Cannot happen for a decoded message; an empty hash still
		// separates routes.
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// cacheScope is the cache scope header's value on a route: the route's
// name and the content hash.
func cacheScope(route string, cp *cachePlan) string {
	return route + ";content=" + cp.content
}

// cacheTTLFilterName names the TTL filter of a rule: its ttl and sorted
// statuses, so that equal rules of several plug-ins share one filter.
func cacheTTLFilterName(r *apigwv1.ProxyCacheHttpStatusTtl) string {
	st := slices.Clone(r.HttpStatus)
	slices.Sort(st)
	parts := make([]string, len(st))
	for i, s := range st {
		parts[i] = strconv.Itoa(int(s))
	}
	return filterCacheTTLPrefix + strconv.Itoa(int(r.Ttl)) + "s." + strings.Join(parts, "_")
}

// enabled is the per-route config that turns on a filter disabled in the
// HCM: a FilterConfig whose config is an empty Any (Envoy: "If the field
// config is configured but is empty, we treat the filter is enabled
// explicitly").
func enabled() *routev3.FilterConfig {
	return &routev3.FilterConfig{Config: &anypb.Any{}}
}

// applyCache enables the cache filters on a route: the key filter sets the
// scope header to the route's name, the backend's response gets a Vary on
// it (and on the key's headers) and the scope header never reaches the
// backend. Without a proxy_cache plug-in it only adds the route's
// $context.cacheStatus headers (every answer is then "via_upstream", or
// "direct_response" for a mock).
func (p *pubPlan) applyCache(r *routev3.Route) {
	cp := p.plugins.cache
	if cp == nil {
		// Without a cache every answer is the backend's (or the route's
		// own): the route renders the value as a literal, since Envoy
		// evaluates route headers before it sets the response code
		// details.
		details := "via_upstream"
		if r.GetDirectResponse() != nil {
			details = "direct_response"
		}
		for _, h := range p.plugins.respCacheStatus {
			h = proto.Clone(h).(*corev3.HeaderValueOption)
			h.Header.Value = strings.ReplaceAll(h.Header.Value, cacheStatusFormatter, details)
			r.ResponseHeadersToAdd = append(slices.Clone(r.ResponseHeadersToAdd), h)
		}
		return
	}
	muts := &headermutationv3.Mutations{
		RequestMutations: []*mutationrulesv3.HeaderMutation{{Action: &mutationrulesv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: dataplane.CacheScopeHeader, Value: escapeFormatter(cacheScope(r.Name, cp))},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		}}}},
	}
	// $context.cacheStatus headers: added by the key filter, which runs
	// before the cache filter, so that they are never stored and a
	// response served from the cache gets its own.
	for _, h := range p.plugins.respCacheStatus {
		muts.ResponseMutations = append(muts.ResponseMutations, &mutationrulesv3.HeaderMutation{Action: &mutationrulesv3.HeaderMutation_Append{Append: h}})
	}
	r.TypedPerFilterConfig[filterCacheKey] = p.packer.pack(&headermutationv3.HeaderMutationPerRoute{Mutations: muts})
	cache := filterCache
	if cp.client {
		cache = filterCacheClient
	}
	r.TypedPerFilterConfig[cache] = p.packer.pack(enabled())
	for _, f := range append([]string{filterCacheCookie, filterCacheSize}, cp.ttl...) {
		r.TypedPerFilterConfig[f] = p.packer.pack(enabled())
	}
	vary := strings.Join(append([]string{dataplane.CacheScopeHeader}, cp.headers...), ",")
	r.ResponseHeadersToAdd = append(slices.Clone(r.ResponseHeadersToAdd), &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: "vary", Value: vary},
		AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
	})
	r.RequestHeadersToRemove = append(r.RequestHeadersToRemove, dataplane.CacheScopeHeader)
}

// cacheFilters are the proxy_cache filters of an HCM, disabled, in the
// order they must run: the key filter and the cache filters before the TTL
// filters and the Set-Cookie filter, so that on the way back those add
// their Cache-Control before the cache filter decides whether to store the
// response, and a response served from the cache passes the key filter
// but none of them.
func cacheFilters(plugins []*apigwv1.Plugin) ([]*hcmFilter, error) {
	if len(plugins) == 0 {
		return nil, nil
	}
	rules := map[string]*apigwv1.ProxyCacheHttpStatusTtl{}
	for _, p := range plugins {
		c := model.ProxyCacheContentOf(p)
		if c == nil {
			continue // an unreadable plug-in holds its APIs closed
		}
		for _, r := range c.GetCacheHttpStatusAndTtl() {
			rules[cacheTTLFilterName(r)] = r
		}
	}
	// Any header name may be varied on (the scope header, the key's
	// headers, and whatever the backend names: honouring its Vary is
	// always correct); "*" is not a name, so a "Vary: *" response is not
	// stored.
	allowed := []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: varyNamePattern}}}}
	storage, err := toAny(&simplecachev3.SimpleHttpCacheConfig{})
	if err != nil {
		return nil, err
	}
	out := []*hcmFilter{
		{name: filterCacheKey, cfg: &headermutationv3.HeaderMutation{}},
		{name: filterCache, cfg: &cachev3.CacheConfig{TypedConfig: storage, AllowedVaryHeaders: allowed, IgnoreRequestCacheControlHeader: true}},
		{name: filterCacheClient, cfg: &cachev3.CacheConfig{TypedConfig: storage, AllowedVaryHeaders: allowed}},
	}
	names := make([]string, 0, len(rules))
	for n := range rules {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		cfg, err := cacheTTLFilter(rules[n])
		if err != nil {
			return nil, err
		}
		out = append(out, &hcmFilter{name: n, cfg: cfg})
	}
	// Last, so that on the way back they act first.
	size, err := cacheSizeFilter()
	if err != nil {
		return nil, err
	}
	cookie, err := cacheCookieFilter()
	if err != nil {
		return nil, err
	}
	out = append(out, &hcmFilter{name: filterCacheSize, cfg: size}, &hcmFilter{name: filterCacheCookie, cfg: cookie})
	return out, nil
}

// cacheSizeFilter adds "cache-control: no-store" to a response unless its
// Content-Length is at most model.ProxyCacheMaxBodyBytes (match_delegate
// skipping the header_mutation when the header matches), so that Envoy's
// cache filter never stores a larger response, nor one whose length it
// cannot know in advance (chunked).
func cacheSizeFilter() (proto.Message, error) {
	input, err := toAny(&matcherv3.HttpResponseHeaderMatchInput{HeaderName: "content-length"})
	if err != nil {
		return nil, err
	}
	small := &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{
		SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
			Input: &xdscorev3.TypedExtensionConfig{Name: "content-length", TypedConfig: input},
			Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: &xdsmatcherv3.StringMatcher{
				MatchPattern: &xdsmatcherv3.StringMatcher_SafeRegex{SafeRegex: &xdsmatcherv3.RegexMatcher{
					EngineType: &xdsmatcherv3.RegexMatcher_GoogleRe2{GoogleRe2: &xdsmatcherv3.RegexMatcher_GoogleRE2{}},
					Regex:      decimalAtMost(model.ProxyCacheMaxBodyBytes),
				}},
			}},
		},
	}}
	return skipWhen(small, "cache-control", "no-store", corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)
}

// decimalAtMost is a regular expression (RE2, matched in full) for the
// decimal numbers 0 to limit without leading zeros.
func decimalAtMost(limit int64) string {
	d := strconv.FormatInt(limit, 10)
	alts := []string{"0"}
	if len(d) > 1 {
		// Every number with fewer digits.
		alts = append(alts, "[1-9][0-9]{0,"+strconv.Itoa(len(d)-2)+"}")
	}
	// Numbers with as many digits: the same first i digits, then a
	// smaller one, then anything.
	for i := 0; i < len(d); i++ {
		lo := byte('0')
		if i == 0 {
			lo = '1'
		}
		if d[i] == lo {
			continue
		}
		alt := d[:i] + "[" + string(lo) + "-" + string(d[i]-1) + "]"
		if rest := len(d) - i - 1; rest > 0 {
			alt += "[0-9]{" + strconv.Itoa(rest) + "}"
		}
		alts = append(alts, alt)
	}
	return strings.Join(append(alts, d), "|")
}

// cacheCookieFilter adds "cache-control: no-store" to a response with a
// Set-Cookie header (match_delegate skipping the header_mutation unless
// the header is present), which Envoy's cache filter then never stores.
func cacheCookieFilter() (proto.Message, error) {
	input, err := toAny(&matcherv3.HttpResponseHeaderMatchInput{HeaderName: "set-cookie"})
	if err != nil {
		return nil, err
	}
	present := &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{
		SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
			Input: &xdscorev3.TypedExtensionConfig{Name: "set-cookie", TypedConfig: input},
			Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: &xdsmatcherv3.StringMatcher{
				MatchPattern: &xdsmatcherv3.StringMatcher_SafeRegex{SafeRegex: &xdsmatcherv3.RegexMatcher{
					EngineType: &xdsmatcherv3.RegexMatcher_GoogleRe2{GoogleRe2: &xdsmatcherv3.RegexMatcher_GoogleRE2{}},
					Regex:      ".*",
				}},
			}},
		},
	}}
	return skipUnless(present, "cache-control", "no-store", corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)
}

// varyNamePattern is a header name in a Vary: RFC 9110 token characters
// but "*", so that "Vary: *" (vary on everything) is never allowed.
const varyNamePattern = "[0-9A-Za-z!#$%&'+.^_`|~-]+"

// hcmFilter is an HTTP filter disabled by default.
type hcmFilter struct {
	name string
	cfg  proto.Message
}

// cacheTTLFilter adds "cache-control: max-age=<ttl>" to responses of the
// rule's statuses that have no Cache-Control header: a header_mutation
// filter wrapped in a matcher (envoy.filters.http.match_delegate) that
// skips it for every other status.
func cacheTTLFilter(r *apigwv1.ProxyCacheHttpStatusTtl) (proto.Message, error) {
	input, err := toAny(&matcherv3.HttpResponseHeaderMatchInput{HeaderName: ":status"})
	if err != nil {
		return nil, err
	}
	st := slices.Clone(r.HttpStatus)
	slices.Sort(st)
	var preds []*xdsmatcherv3.Matcher_MatcherList_Predicate
	for _, s := range st {
		preds = append(preds, &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{
			SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
				Input: &xdscorev3.TypedExtensionConfig{Name: "status", TypedConfig: input},
				Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: &xdsmatcherv3.StringMatcher{
					MatchPattern: &xdsmatcherv3.StringMatcher_Exact{Exact: strconv.Itoa(int(s))},
				}},
			},
		}})
	}
	listed := preds[0]
	if len(preds) > 1 {
		listed = &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_OrMatcher{
			OrMatcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_PredicateList{Predicate: preds},
		}}
	}
	return skipUnless(listed, "cache-control", "max-age="+strconv.Itoa(int(r.Ttl)), corev3.HeaderValueOption_ADD_IF_ABSENT)
}

// skipUnless is a match_delegate filter whose header_mutation adds a
// response header, skipped (SkipFilter) unless the predicate on the
// response holds.
func skipUnless(pred *xdsmatcherv3.Matcher_MatcherList_Predicate, key, value string, action corev3.HeaderValueOption_HeaderAppendAction) (proto.Message, error) {
	return skipWhen(&xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_NotMatcher{NotMatcher: pred}}, key, value, action)
}

// skipWhen is a match_delegate filter whose header_mutation adds a
// response header, skipped (SkipFilter) when the predicate on the
// response holds.
func skipWhen(pred *xdsmatcherv3.Matcher_MatcherList_Predicate, key, value string, action corev3.HeaderValueOption_HeaderAppendAction) (proto.Message, error) {
	skip, err := toAny(&actionv3.SkipFilter{})
	if err != nil {
		return nil, err
	}
	mutation, err := toAny(&headermutationv3.HeaderMutation{Mutations: &headermutationv3.Mutations{
		ResponseMutations: []*mutationrulesv3.HeaderMutation{{Action: &mutationrulesv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: key, Value: value},
			AppendAction: action,
		}}}},
	}})
	if err != nil {
		return nil, err
	}
	return &matchingv3.ExtensionWithMatcher{
		XdsMatcher: &xdsmatcherv3.Matcher{MatcherType: &xdsmatcherv3.Matcher_MatcherList_{MatcherList: &xdsmatcherv3.Matcher_MatcherList{
			Matchers: []*xdsmatcherv3.Matcher_MatcherList_FieldMatcher{{
				Predicate: pred,
				OnMatch:   &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{Action: &xdscorev3.TypedExtensionConfig{Name: "skip", TypedConfig: skip}}},
			}},
		}}},
		ExtensionConfig: &corev3.TypedExtensionConfig{Name: "envoy.filters.http.header_mutation", TypedConfig: mutation},
	}, nil
}
