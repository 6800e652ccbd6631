package translate

import (
	"time"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rlsconfv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	bodylimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/body_size_limit/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/dataplane"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// HTTP filter names; per-route configs are keyed by the same names.
const (
	filterCORS      = "envoy.filters.http.cors"
	filterBodyLimit = "envoy.filters.http.body_size_limit"
	filterRBAC      = "envoy.filters.http.rbac"
	filterExtAuthz  = "envoy.filters.http.ext_authz"
	filterRateLimit = "envoy.filters.http.ratelimit"
	filterRouter    = "envoy.filters.http.router"
)

// httpFilters is the filter chain of every HCM, in the request-time order of
// docs/apig-semantics.md#request-time-order: cors answers preflights before
// anything else; the body limit rejects early; rbac applies IP ACLs; the
// oauth2 filters of oidc_auth plug-ins log browsers in; ext_authz
// authenticates and feeds the rate-limit descriptors; ratelimit; the
// proxy_cache ext_proc filter (an instance with proxy_cache plug-ins);
// router.
func httpFilters(cfg *apigwv1.InstanceConfig, opts Options, oidc []*hcmv3.HttpFilter, caches []*apigwv1.Plugin) ([]*hcmv3.HttpFilter, error) {
	type entry struct {
		name     string
		cfg      proto.Message
		optional bool
		disabled bool
	}
	debug, err := debugLatencyFilter()
	if err != nil {
		return nil, err
	}
	entries := []entry{
		// First, so that it sees every response last (latency headers of
		// debug mode, debugheaders.go).
		{name: filterDebugLatency, cfg: debug},
		{name: filterCORS, cfg: &corsv3.Cors{}},
		// body_size_limit exists in Envoy 1.40; older Envoys skip it and
		// the limit is not enforced there.
		{name: filterBodyLimit, cfg: &bodylimitv3.BodySizeLimit{MaxRequestBytes: wrapperspb.UInt64(uint64(cfg.GetRequestBodySize()))}, optional: true},
		// Without rules RBAC enforces nothing; routes with an IP ACL
		// override it.
		{name: filterRBAC, cfg: &rbacv3.RBAC{}},
		{name: filterExtAuthz, cfg: extAuthzFilter(opts)},
		{name: filterRateLimit, cfg: rateLimitFilter(opts)},
	}
	// proxy_cache: after authentication and throttling, so that a cached
	// answer is given only to admitted requests; disabled unless a route
	// enables it (proxycache.go).
	cf, err := cacheFilters(caches)
	if err != nil {
		return nil, err
	}
	for _, f := range cf {
		entries = append(entries, entry{name: f.name, cfg: f.cfg, disabled: true})
	}
	entries = append(entries, entry{name: filterRouter, cfg: &routerv3.Router{SuppressEnvoyHeaders: true}})
	var p anyPacker
	out := make([]*hcmv3.HttpFilter, 0, len(entries))
	for _, e := range entries {
		if e.name == filterExtAuthz {
			// oidc_auth plug-ins log the browser in before ext_authz
			// checks the request (oidc.go); each is disabled but on the
			// routes of its APIs.
			out = append(out, oidc...)
		}
		out = append(out, &hcmv3.HttpFilter{Name: e.name, IsOptional: e.optional, Disabled: e.disabled, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(e.cfg)}})
	}
	return out, p.err
}

func grpcService(cluster string, timeout time.Duration) *corev3.GrpcService {
	return &corev3.GrpcService{
		TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: cluster}},
		Timeout:         durationpb.New(timeout),
	}
}

// extAuthzFilter checks every route that does not disable it. A denial is
// rendered by ext_authz; a broken ext_authz fails closed (500). When
// ext_authz selects a policy backend it sets dataplane.ExtAuthzPolicyHeader and
// the route is matched again.
func extAuthzFilter(opts Options) *extauthzv3.ExtAuthz {
	return &extauthzv3.ExtAuthz{
		Services:               &extauthzv3.ExtAuthz_GrpcService{GrpcService: grpcService(ClusterExtAuthz, opts.ExtAuthzTimeout)},
		TransportApiVersion:    corev3.ApiVersion_V3,
		ClearRouteCache:        true,
		ClearRouteCacheHeaders: []string{dataplane.ExtAuthzPolicyHeader, dataplane.ExtAuthzAppRouteHeader},
		StatusOnError:          &typev3.HttpStatus{Code: typev3.StatusCode_InternalServerError},
		EncodeRawHeaders:       true,
		IncludeTlsSession:      true,
		// allow_all_routing lets ext_authz set :method for backends
		// called with another method; ext_authz is apigw's own server.
		DecoderHeaderMutationRules: &mutationrulesv3.HeaderMutationRules{AllowAllRouting: wrapperspb.Bool(true)},
	}
}

// rateLimitFilter asks the rate-limit service about the route's
// descriptors; it fails open like Envoy's default.
func rateLimitFilter(opts Options) *ratelimitv3.RateLimit {
	return &ratelimitv3.RateLimit{
		Domain:  dataplane.RateLimitDomain,
		Timeout: durationpb.New(opts.RateLimitTimeout),
		RateLimitService: &rlsconfv3.RateLimitServiceConfig{
			GrpcService:         grpcService(ClusterRateLimit, opts.RateLimitTimeout),
			TransportApiVersion: corev3.ApiVersion_V3,
		},
		DisableXEnvoyRatelimitedHeader: true,
	}
}
