package model

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// PluginProxyCache is the proxy_cache plug-in type
// (docs/plugins.md#proxy_cache).
const PluginProxyCache = "proxy_cache"

// proxy_cache bounds.
const (
	ProxyCacheMaxTTL        = 31536000 // seconds (a year)
	ProxyCacheMaxKeyItems   = 20       // per list of cache_key
	ProxyCacheMaxHeaders    = 20       // cacheable_headers
	ProxyCacheMaxHeaderName = 64
	// ProxyCacheMaxBodyBytes is the largest response body kept (APIG:
	// 1 MB); ProxyCacheMaxTotalBytes the most an apigw process keeps
	// (APIG: 128 MB), least recently used entries evicted first.
	ProxyCacheMaxBodyBytes  = 1 << 20
	ProxyCacheMaxTotalBytes = 128 << 20
	ProxyCacheModeOff       = "off"
	ProxyCacheModeAll       = "all"
)

// ProxyCacheStatuses are the response statuses a rule may list: the
// statuses apigw's cache stores (RFC 9110's heuristically cacheable
// codes).
var proxyCacheStatuses = []int32{200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 451, 501}

// ProxyCacheStatuses returns the statuses a proxy_cache rule may list, in
// a new slice.
func ProxyCacheStatuses() []int32 { return slices.Clone(proxyCacheStatuses) }

// ProxyCacheContentHash is a short hash of a proxy_cache content (its
// deterministic protobuf encoding): part of the cache scope Envoy sends
// apigw's cache with every request of a cached route, so that entries
// stored under another content are never answered and are dropped.
func ProxyCacheContentHash(v *apigwv1.ProxyCacheContent) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(v)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// proxyCacheSystemParams are the system parameters a cache key may name:
// apigw's key always separates APIs and environments, so these add
// nothing. The others (the caller's address or app, the request id, the
// gateway node) are not sent to apigw's cache (it sees the request's
// headers only) and are refused.
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
// plug-in: GET APIs, and ANY APIs (their GET and HEAD requests). HEAD APIs
// are still refused (apigw's cache would serve them, but they were never
// tested end to end).
func ProxyCacheMethod(method string) bool {
	return method == "GET" || method == MethodAny
}

func validateProxyCache(c checker, v *apigwv1.ProxyCacheContent) {
	k := v.GetCacheKey()
	if len(k.GetSystemParams())+len(k.GetParameters())+len(k.GetHeaders()) == 0 {
		c.add("cache_key", "is required: set at least one of system_params, parameters and headers")
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
					kc.add(field, "%q is not supported: the key can name %s (apigw always keys by API and environment); the caller's address, app, the request id and gateway values are not sent to apigw's cache", s, strings.Join(proxyCacheSystemParams, ", "))
				}
			case "parameters":
				if !validQueryName(s) {
					kc.add(field, "%q is not a query parameter name (1-%d characters, no control characters, & nor =)", s, ProxyCacheMaxHeaderName)
				}
			case "headers":
				key = strings.ToLower(s)
				switch {
				case !ValidHeaderName(s) || len(s) > ProxyCacheMaxHeaderName:
					kc.add(field, "%q is not a header name (1-%d characters)", s, ProxyCacheMaxHeaderName)
				case key == "authorization":
					kc.add(field, "Authorization cannot be in the key: apigw's cache never answers requests carrying it (one caller's answer would be given to others)")
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
				rc.add(field, "%d cannot be cached (cacheable: %s)", s, joinInt32(proxyCacheStatuses))
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
			ccc.add("mode", "apps is not supported: apigw's cache does not know the calling app (it sees the request's headers only; use off or all)")
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

// validQueryName reports whether s can name a query parameter of a cache
// key: 1-64 characters, printable, without & and =.
func validQueryName(s string) bool {
	if s == "" || len(s) > ProxyCacheMaxHeaderName {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r == 0x7f || r == '&' || r == '=' {
			return false
		}
	}
	return true
}
