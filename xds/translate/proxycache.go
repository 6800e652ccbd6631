package translate

import (
	"slices"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// proxy_cache (docs/plugins.md#proxy_cache, docs/xds.md#proxy_cache): an
// ext_proc filter in every HCM of an instance that has proxy_cache
// plug-ins, after ext_authz and ratelimit and before the router, disabled;
// the routes of an API with a proxy_cache plug-in enable it with the
// route's cache scope as gRPC initial metadata. The filter's service is
// apigw's cache (package proxycache), on the ext_authz address.
const (
	filterProxyCache = "envoy.filters.http.ext_proc"
	// ClusterProxyCache is the cluster of apigw's cache service.
	ClusterProxyCache = "apigw.proxycache"
	// proxyCacheMessageTimeout bounds each ext_proc round trip; past it
	// the request goes on without the cache (failure_mode_allow).
	proxyCacheMessageTimeout = 200 * time.Millisecond
)

// cachePlan is what a proxy_cache plug-in does to the routes of its API.
type cachePlan struct {
	content string // model.ProxyCacheContentHash of the plug-in's content
}

func planProxyCache(v *apigwv1.ProxyCacheContent) *cachePlan {
	return &cachePlan{content: model.ProxyCacheContentHash(v)}
}

// cacheScope is a route's cache scope: its name and the content hash.
// apigw's cache keys every entry by it, so a route never answers from
// another route's entries, nor from entries stored under another content
// of the plug-in (which the cache drops).
func cacheScope(route string, cp *cachePlan) string {
	return route + ";content=" + cp.content
}

// applyCache enables the ext_proc filter on a route of an API with a
// proxy_cache plug-in (not on a mock's route: nothing to cache), and
// renders the route's $context.cacheStatus headers: "via_upstream" for
// the backend's answer, "direct_response" for a mock's. An answer from the
// cache is an ext_proc immediate response, which route headers do not
// reach: the cache adds those headers itself ("proxy_cache_hit"), named in
// the stream's initial metadata (docs/plugins.md#proxy_cache).
func (p *pubPlan) applyCache(r *routev3.Route) {
	details := "via_upstream"
	if r.GetDirectResponse() != nil {
		details = "direct_response"
	}
	for _, h := range p.plugins.respCacheStatus {
		h = proto.Clone(h).(*corev3.HeaderValueOption)
		h.Header.Value = strings.ReplaceAll(h.Header.Value, cacheStatusFormatter, details)
		r.ResponseHeadersToAdd = append(slices.Clone(r.ResponseHeadersToAdd), h)
	}
	cp := p.plugins.cache
	if cp == nil || r.GetDirectResponse() != nil {
		return
	}
	md := []*corev3.HeaderValue{{Key: dataplane.CacheScopeHeader, Value: cacheScope(r.Name, cp)}}
	var names []string
	for _, h := range p.plugins.respCacheStatus {
		if k := h.GetHeader().GetKey(); !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	if len(names) > 0 {
		md = append(md, &corev3.HeaderValue{Key: dataplane.CacheStatusHeaders, Value: strings.Join(names, ",")})
	}
	per := &extprocv3.ExtProcPerRoute{Override: &extprocv3.ExtProcPerRoute_Overrides{Overrides: &extprocv3.ExtProcOverrides{GrpcInitialMetadata: md}}}
	r.TypedPerFilterConfig[filterProxyCache] = p.packer.pack(&routev3.FilterConfig{Config: p.packer.pack(per)})
}

// proxyCacheFilter is the ext_proc filter of the HCMs: request headers
// and response headers sent, the response body buffered up to Envoy's
// buffer limit (BUFFERED_PARTIAL: a larger body arrives incomplete and is
// not stored), no request body nor trailers; a cache that fails or is
// slow lets the request go on to the backend.
func proxyCacheFilter() *extprocv3.ExternalProcessor {
	return &extprocv3.ExternalProcessor{
		GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: ClusterProxyCache}},
		},
		FailureModeAllow: true,
		ProcessingMode: &extprocv3.ProcessingMode{
			RequestHeaderMode:   extprocv3.ProcessingMode_SEND,
			ResponseHeaderMode:  extprocv3.ProcessingMode_SEND,
			RequestBodyMode:     extprocv3.ProcessingMode_NONE,
			ResponseBodyMode:    extprocv3.ProcessingMode_BUFFERED_PARTIAL,
			RequestTrailerMode:  extprocv3.ProcessingMode_SKIP,
			ResponseTrailerMode: extprocv3.ProcessingMode_SKIP,
		},
		MessageTimeout: durationpb.New(proxyCacheMessageTimeout),
		// The cache never changes request headers: the route stays.
		DisableClearRouteCache: true,
	}
}

// cacheFilters is the disabled ext_proc filter of an instance with
// proxy_cache plug-ins (none without).
func cacheFilters(plugins []*apigwv1.Plugin) ([]*hcmFilter, error) {
	if len(plugins) == 0 {
		return nil, nil
	}
	return []*hcmFilter{{name: filterProxyCache, cfg: proxyCacheFilter()}}, nil
}

// proxyCacheCluster is the cluster of apigw's cache, built like the
// ext_authz cluster (same address and mTLS settings: the cache service
// runs in the ext_authz process), for an instance with proxy_cache
// plug-ins (nil without).
func proxyCacheCluster(plugins []*apigwv1.Plugin, opts Options) (*clusterv3.Cluster, error) {
	if len(plugins) == 0 {
		return nil, nil
	}
	return serviceCluster(ClusterProxyCache, opts.ExtAuthzAddress, opts.ExtAuthzTLS, opts)
}

// hcmFilter is an HTTP filter disabled by default.
type hcmFilter struct {
	name string
	cfg  proto.Message
}
