package translate

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// pluginPlan is what the plug-ins bound to a publication's (API,
// environment) do to its routes (docs/plugins.md).
type pluginPlan struct {
	// cors replaces the API-level cors flag.
	cors *apigwv1.CorsPluginContent
	// respAdd and respRemove are the set_resp_headers mutations.
	respAdd    []*corev3.HeaderValueOption
	respRemove []string
	// respCacheStatus are the set_resp_headers mutations naming
	// $context.cacheStatus: the route adds them with its literal value;
	// with a proxy_cache plug-in apigw's cache adds them to its own
	// answers (proxycache.go).
	respCacheStatus []*corev3.HeaderValueOption
	// mirror is the proxy_mirror cluster and policy.
	mirror       *clusterSpec
	mirrorPolicy *routev3.RouteAction_RequestMirrorPolicy
	// jwt: a jwt_auth plug-in, which ext_authz verifies.
	jwt bool
	// thirdTimeout: a third_auth plug-in's service timeout (ms), which
	// ext_authz calls; 0 without the plug-in.
	thirdTimeout int32
	// thirdBody: the third_auth plug-in sends the request body to its
	// service (carry_body), which ext_authz must then receive.
	thirdBody bool
	// rateLimit replaces the throttling policy bound to the API
	// (docs/plugins.md#rate_limit).
	rateLimit *model.RateLimit
	// breaker: a breaker plug-in is bound; ext_authz, which reads its
	// state, must run on the API's routes. breakerPolicies are its http
	// and http_vpc downgrades, breakerFunctions its func downgrades,
	// routed like policy backends selected by ext_authz.
	breaker          bool
	breakerPolicies  []*apigwv1.PolicyHttp
	breakerFunctions []*apigwv1.PolicyFunction
	// oidc: the id of an oidc_auth plug-in, whose oauth2 filter the
	// routes enable ("" without one).
	oidc string
	// cache: a proxy_cache plug-in (proxycache.go).
	cache *cachePlan
}

// planPlugins reads the plug-ins bound to (API, environment).
func (c *buildCtx) planPlugins(api *apigwv1.Api, envID string) (pluginPlan, error) {
	apiID := api.Id
	var out pluginPlan
	for _, p := range c.v.PluginsFor(apiID, envID) {
		m, err := model.PluginContent(p)
		if err != nil {
			return out, fmt.Errorf("plug-in %s: %v", p.PluginName, err)
		}
		switch v := m.(type) {
		case *apigwv1.CorsPluginContent:
			out.cors = v
		case *apigwv1.SetRespHeadersContent:
			out.respAdd, out.respCacheStatus, out.respRemove = respHeaderMutations(v)
		case *apigwv1.ProxyMirrorContent:
			spec, pol, err := mirrorPolicy(v)
			if err != nil {
				return out, fmt.Errorf("plug-in %s: %v", p.PluginName, err)
			}
			out.mirror, out.mirrorPolicy = spec, pol
		case *apigwv1.JwtAuthContent:
			out.jwt = true
		case *apigwv1.ThirdAuthContent:
			out.thirdTimeout = model.ThirdAuthTimeout(v)
			out.thirdBody = v.GetCarryBody().GetEnabled()
		case *apigwv1.OidcAuthContent:
			out.oidc = p.Id
		case *apigwv1.RateLimitContent:
			rl, err := model.CompileRateLimit(p)
			if err != nil {
				return out, err
			}
			out.rateLimit = rl
		case *apigwv1.BreakerContent:
			out.breaker = true
			out.breakerPolicies = model.BreakerHTTPPolicies(v, api.BackendParams)
			out.breakerFunctions = model.BreakerFunctionPolicies(v, api.BackendParams)
		case *apigwv1.ProxyCacheContent:
			out.cache = planProxyCache(v)
		}
	}
	return out, nil
}

// corsPluginRoute is the Envoy CORS policy of a cors plug-in. Envoy's
// cors filter answers the preflights of the route and adds the
// allow-origin (the request's origin when it matches), credentials and
// expose headers to the other responses.
func corsPluginRoute(c *apigwv1.CorsPluginContent) *corsv3.CorsPolicy {
	p := &corsv3.CorsPolicy{
		AllowMethods:  strings.ToUpper(strings.Join(model.SplitList(c.AllowMethods), ",")),
		AllowHeaders:  strings.Join(model.SplitList(c.AllowHeaders), ","),
		ExposeHeaders: strings.Join(model.SplitList(c.ExposeHeaders), ","),
		MaxAge:        strconv.FormatInt(c.MaxAge, 10),
	}
	for _, o := range model.SplitList(c.AllowOrigin) {
		p.AllowOriginStringMatch = append(p.AllowOriginStringMatch, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: strings.TrimSuffix(o, "/")}})
	}
	if c.AllowCredentials {
		p.AllowCredentials = wrapperspb.Bool(true)
	}
	return p
}

// corsPluginMockHeaders are added to mock responses of an API with a cors
// plug-in, which Envoy's cors filter skips. A plug-in bound to a mock API
// allows any origin ("*"; see model checkPluginBinding).
func corsPluginMockHeaders(c *apigwv1.CorsPluginContent) []*corev3.HeaderValueOption {
	out := []*corev3.HeaderValueOption{{
		Header:       &corev3.HeaderValue{Key: "access-control-allow-origin", Value: "*"},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}}
	if v := strings.Join(model.SplitList(c.ExposeHeaders), ","); v != "" {
		out = append(out, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: "access-control-expose-headers", Value: escapeFormatter(v)},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	return out
}

// corsPluginPreflight answers preflights of a mock API with a cors
// plug-in.
func corsPluginPreflight(c *apigwv1.CorsPluginContent) routeAction {
	pol := corsPluginRoute(c)
	var hdrs []*corev3.HeaderValueOption
	for _, kv := range [][2]string{
		{"access-control-allow-origin", "*"},
		{"access-control-allow-methods", pol.AllowMethods},
		{"access-control-allow-headers", pol.AllowHeaders},
		{"access-control-max-age", pol.MaxAge},
	} {
		if kv[1] == "" {
			continue
		}
		hdrs = append(hdrs, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: kv[0], Value: escapeFormatter(kv[1])},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	return routeAction{direct: &routev3.DirectResponseAction{Status: 200}, respHeaders: hdrs}
}

// respHeaderMutations maps the actions of a set_resp_headers plug-in to
// Envoy's route response-header mutations:
//
//   - override: OVERWRITE_IF_EXISTS_OR_ADD (every same-name header
//     replaced by one);
//   - add: APPEND_IF_EXISTS_OR_ADD (one more header line);
//   - skip: ADD_IF_ABSENT (the backend's header is kept);
//   - delete: response_headers_to_remove (every same-name header);
//   - append: no append_action joins values with a comma, so two
//     mutations do it: OVERWRITE_IF_EXISTS with "%RESP(name)%,value" (the
//     backend's value, a comma, ours: one header) and then ADD_IF_ABSENT
//     with the value (when the backend sent none).
func respHeaderMutations(c *apigwv1.SetRespHeadersContent) (add, cacheStatus []*corev3.HeaderValueOption, remove []string) {
	for _, h := range c.ResponseHeaders {
		key := strings.ToLower(h.Name)
		val := escapeFormatter(h.Value)
		to := &add
		if h.ValueType == model.ValueSystem {
			name := strings.TrimPrefix(h.Value, "$context.")
			val = pluginVar(name)
			if name == model.CacheStatusVar {
				to = &cacheStatus
			}
		}
		opt := func(k, v string, a corev3.HeaderValueOption_HeaderAppendAction) {
			*to = append(*to, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}, AppendAction: a})
		}
		switch strings.ToLower(h.Action) {
		case model.HeaderOverride:
			opt(key, val, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)
		case model.HeaderAdd:
			opt(key, val, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)
		case model.HeaderSkip:
			opt(key, val, corev3.HeaderValueOption_ADD_IF_ABSENT)
		case model.HeaderDelete:
			remove = append(remove, key)
		case model.HeaderAppend:
			opt(key, "%RESP("+key+")%,"+val, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS)
			opt(key, val, corev3.HeaderValueOption_ADD_IF_ABSENT)
		}
	}
	return add, cacheStatus, remove
}

// cacheStatusFormatter marks $context.cacheStatus in a set_resp_headers
// value; applyCache replaces it with the route's literal ("via_upstream",
// "direct_response"), and apigw's cache answers with "proxy_cache_hit"
// (docs/plugins.md#proxy_cache).
const cacheStatusFormatter = "%RESPONSE_CODE_DETAILS%"

// pluginVar is the Envoy formatter command of a set_resp_headers system
// value.
func pluginVar(name string) string {
	if name == model.CacheStatusVar {
		return cacheStatusFormatter
	}
	return envoyVars[name]
}

// mirrorPolicy is the request mirror policy of a proxy_mirror plug-in and
// the cluster it mirrors to: a cluster of its own, whose streams last at
// most the plug-in's timeout (max_stream_duration), so that a slow mirror
// never holds Envoy's resources longer.
func mirrorPolicy(c *apigwv1.ProxyMirrorContent) (*clusterSpec, *routev3.RouteAction_RequestMirrorPolicy, error) {
	scheme := strings.ToLower(c.Protocol)
	host, port, err := splitHostPort(c.Host, scheme)
	if err != nil {
		return nil, nil, err
	}
	timeout := int32(model.MirrorDefaultTimeout)
	if c.Timeout != nil {
		timeout = *c.Timeout
	}
	spec := &clusterSpec{name: mirrorClusterName(scheme, host, port, timeout), scheme: scheme, host: host, port: port, streamTimeout: timeout}
	pol := &routev3.RouteAction_RequestMirrorPolicy{Cluster: spec.name, HostRewriteLiteral: c.Host}
	if r := c.GetSampleRatio(); c.SampleRatio != nil && r < 1 {
		pol.RuntimeFraction = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{
			Numerator:   uint32(math.Round(r * 1e6)),
			Denominator: typev3.FractionalPercent_MILLION,
		}}
	}
	return spec, pol, nil
}

func mirrorClusterName(scheme, host string, port uint32, timeout int32) string {
	return "mirror." + scheme + "." + host + "." + strconv.FormatUint(uint64(port), 10) + "." + strconv.Itoa(int(timeout))
}
