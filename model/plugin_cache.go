package model

import (
	"slices"
	"strconv"
	"strings"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// PluginProxyCache is the proxy_cache plug-in type
// (docs/plugins.md#proxy_cache).
const PluginProxyCache = "proxy_cache"

// proxyCacheRefusal is why every proxy_cache plug-in is refused. Since
// Envoy 1.33 (envoyproxy/envoy#36309) the cache filter fetches a cache
// miss itself, over an async client to the route's cluster, with the
// request headers as the cache filter sees them
// (CacheFilter::sendUpstreamRequest), and stores the backend's response
// as it arrives (UpstreamRequest::onHeaders): the route's path and host
// rewrites and header changes, the router's response headers and the
// filters after the cache never act on a cacheable request
// (envoyproxy/envoy#39135). apigw's key (the Vary on the scope and key
// headers, added by the route), its ttl rules, its Set-Cookie and size
// filters, and the backend path of the API all depend on them, so no
// content can be served as configured by a supported Envoy (1.37+); the
// stored responses would be shared across the key's headers.
const proxyCacheRefusal = "proxy_cache plug-ins are not supported: Envoy's cache filter (1.33 and newer, so every Envoy apigw supports) fetches a cache miss itself, straight from the route's cluster, without the route's path and host rewrite, its header changes, its response headers and the filters after the cache; the backend would get the frontend path, and the key headers, ttl rules, Set-Cookie and size rules could not act on what is stored (docs/plugins.md#proxy_cache)"

// proxy_cache bounds.
const (
	ProxyCacheMaxTTL        = 31536000 // seconds (a year)
	ProxyCacheMaxKeyItems   = 20       // per list of cache_key
	ProxyCacheMaxHeaders    = 20       // cacheable_headers
	ProxyCacheMaxHeaderName = 64
	// ProxyCacheMaxBodyBytes is the largest response kept (APIG: 1 MB):
	// a response with a longer or no Content-Length is not stored.
	ProxyCacheMaxBodyBytes = 1 << 20
	ProxyCacheModeOff      = "off"
	ProxyCacheModeAll      = "all"
)

// ProxyCacheStatuses are the response statuses Envoy's cache filter can
// store (its cacheability rules, RFC 9110 heuristically cacheable codes);
// http_status may only list these.
var proxyCacheStatuses = []int32{200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 451, 501}

// ProxyCacheStatuses returns the statuses a proxy_cache rule may list, in
// a new slice.
func ProxyCacheStatuses() []int32 { return slices.Clone(proxyCacheStatuses) }

// proxyCacheSystemParams are the system parameters a cache key may name:
// apigw's key always separates APIs and environments, so these add
// nothing. The others (the caller's address or app, the request id, the
// gateway node) cannot be part of Envoy's cache key.
var proxyCacheSystemParams = []string{"$context.stage", "$context.apiId", "$context.apiName"}

// ProxyCacheContentOf returns the content of a proxy_cache plug-in (nil if
// it does not decode).
func ProxyCacheContentOf(p *apigwv1.Plugin) *apigwv1.ProxyCacheContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.ProxyCacheContent)
	return c
}

// ProxyCacheClientControl reports whether a proxy_cache plug-in lets the
// client's Cache-Control request header act on the cache (mode all).
func ProxyCacheClientControl(v *apigwv1.ProxyCacheContent) bool {
	return strings.EqualFold(v.GetClientCacheControl().GetMode(), ProxyCacheModeAll)
}

// ProxyCacheMethod reports whether an API method can use a proxy_cache
// plug-in: GET APIs, and ANY APIs (their GET and HEAD requests). APIG also
// caches HEAD APIs, but Envoy stores only responses to GET, which a HEAD
// API never receives: its cache would stay empty.
func ProxyCacheMethod(method string) bool {
	return method == "GET" || method == MethodAny
}

func validateProxyCache(c checker, v *apigwv1.ProxyCacheContent) {
	k := v.GetCacheKey()
	if len(k.GetSystemParams())+len(k.GetParameters())+len(k.GetHeaders()) == 0 {
		c.add("cache_key", "is required: set at least one of system_params and headers (parameters are refused)")
	}
	kc := c.at("cache_key")
	for _, f := range []struct {
		name string
		vs   []string
	}{{"system_params", k.GetSystemParams()}, {"parameters", k.GetParameters()}, {"headers", k.GetHeaders()}} {
		if len(f.vs) > ProxyCacheMaxKeyItems {
			kc.add(f.name, "at most %d (got %d)", ProxyCacheMaxKeyItems, len(f.vs))
		}
		seen := map[string]bool{}
		for i, s := range f.vs {
			field := index(f.name, i)
			key := s
			switch f.name {
			case "system_params":
				if !slices.Contains(proxyCacheSystemParams, s) {
					kc.add(field, "%q is not supported: the key can name %s (apigw always keys by API and environment); the caller's address, app, the request id and gateway values cannot be part of Envoy's cache key", s, strings.Join(proxyCacheSystemParams, ", "))
				}
			case "parameters":
				// Envoy's cache key holds the whole :path, query
				// string included (envoy.filters.http.cache
				// LookupRequest); CacheConfig.key_creator_params, which
				// would select parameters, is not implemented
				// ([#not-implemented-hide:], never read by the filter).
				kc.add(field, "%q: keying on selected query parameters is not supported: Envoy's cache filter keys on the whole query string (its key_creator_params is not implemented); remove parameters (every key already includes the whole query string)", s)
			case "headers":
				key = strings.ToLower(s)
				switch {
				case !ValidHeaderName(s) || len(s) > ProxyCacheMaxHeaderName:
					kc.add(field, "%q is not a header name (1-%d characters)", s, ProxyCacheMaxHeaderName)
				case key == "authorization":
					kc.add(field, "Authorization cannot be in the key: Envoy's cache never answers requests carrying it")
				case gatewayHeader(s):
					kc.add(field, "%s is set by the gateway", s)
				}
			}
			if seen[key] {
				kc.add(field, "%q is listed twice", s)
			}
			seen[key] = true
		}
	}
	statuses := map[int32]bool{}
	for i, r := range v.GetCacheHttpStatusAndTtl() {
		rc := c.idx("cache_http_status_and_ttl", i)
		if len(r.HttpStatus) == 0 {
			rc.add("http_status", "is required (at least one status)")
		}
		for j, s := range r.HttpStatus {
			field := index("http_status", j)
			if !slices.Contains(proxyCacheStatuses, s) {
				rc.add(field, "%d cannot be cached by Envoy's cache filter (cacheable: %s)", s, joinInt32(proxyCacheStatuses))
			}
			if statuses[s] {
				rc.add(field, "%d is listed twice", s)
			}
			statuses[s] = true
		}
		rc.rangeInt("ttl", int64(r.Ttl), 1, ProxyCacheMaxTTL)
	}
	if cc := v.GetClientCacheControl(); cc != nil {
		ccc := c.at("client_cache_control")
		mode := strings.ToLower(cc.Mode)
		switch mode {
		case "", ProxyCacheModeOff, ProxyCacheModeAll:
		case "apps":
			ccc.add("mode", "apps is not supported: Envoy's cache filter cannot tell apps apart (use off or all)")
		default:
			ccc.oneOf("mode", mode, ProxyCacheModeOff, ProxyCacheModeAll)
		}
		if len(cc.Datas) > 0 && mode != "apps" {
			ccc.add("datas", "must be empty (only mode apps lists apps)")
		}
	}
	if len(v.CacheableHeaders) > ProxyCacheMaxHeaders {
		c.add("cacheable_headers", "at most %d (got %d)", ProxyCacheMaxHeaders, len(v.CacheableHeaders))
	}
	seen := map[string]bool{}
	for i, h := range v.CacheableHeaders {
		field := index("cacheable_headers", i)
		switch {
		case !ValidHeaderName(h) || len(h) > ProxyCacheMaxHeaderName:
			c.add(field, "%q is not a header name (1-%d characters)", h, ProxyCacheMaxHeaderName)
		case gatewayHeader(h):
			c.add(field, "%s is set by the gateway and cannot be cached", h)
		}
		if seen[strings.ToLower(h)] {
			c.add(field, "%q is listed twice", h)
		}
		seen[strings.ToLower(h)] = true
	}
}

func joinInt32(vs []int32) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.Itoa(int(v))
	}
	return strings.Join(s, ", ")
}

// ProxyCachePlugins returns the proxy_cache plug-ins of the instance,
// sorted by id: the translator gives every HTTP connection manager the
// filters their rules need.
func (in *Instance) ProxyCachePlugins() []*apigwv1.Plugin {
	var out []*apigwv1.Plugin
	for _, p := range List[*apigwv1.Plugin](in, KindPlugin) {
		if p.PluginType == PluginProxyCache {
			out = append(out, p)
		}
	}
	return out
}
