package model

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Plug-in types apigw implements (docs/plugins.md).
const (
	PluginCORS           = "cors"
	PluginSetRespHeaders = "set_resp_headers"
	PluginProxyMirror    = "proxy_mirror"
	PluginRateLimit      = "rate_limit"
	PluginBreaker        = "breaker"
	PluginScopeGlobal    = "global"
)

// pluginTypes lists the plug-in types apigw implements.
var pluginTypes = []string{PluginCORS, PluginSetRespHeaders, PluginProxyMirror, PluginRateLimit, PluginJWTAuth, PluginThirdAuth, PluginBreaker, PluginKafkaLog, PluginOIDCAuth, PluginProxyCache}

// Header actions of a set_resp_headers plug-in.
const (
	HeaderOverride = "override"
	HeaderAppend   = "append"
	HeaderDelete   = "delete"
	HeaderSkip     = "skip"
	HeaderAdd      = "add"
)

// Value types of a set_resp_headers header.
const (
	ValueCustom = "custom_value"
	ValueSystem = "system_parameter"
)

// MaxRespHeaders is how many headers one set_resp_headers plug-in sets.
const MaxRespHeaders = 10

// pluginContextVars are the $context variables a set_resp_headers value
// of type system_parameter may name: those the Envoy data plane knows on
// every response, and cacheStatus (docs/plugins.md#proxy_cache).
var pluginContextVars = []string{"requestId", "sourceIp", "reqPath", "reqUri", "reqMethod", "stage", "apiId", "appId", CacheStatusVar}

// CacheStatusVar is the set_resp_headers system value telling whether the
// response came from the proxy_cache cache.
const CacheStatusVar = "cacheStatus"

// PluginContextVars returns the $context variables a set_resp_headers
// value may name, in a new slice.
func PluginContextVars() []string { return slices.Clone(pluginContextVars) }

// Proxy mirror defaults and bounds.
const (
	MirrorDefaultTimeout = 5000 // ms
	MirrorMinSampleRatio = 0.00001
)

var rePluginName = runeRange(`^\p{L}[\p{L}\p{N}_\-]*$`, 3, 255)

var reRespHeaderName = runeRange(`^[A-Za-z][A-Za-z0-9\-]*$`, 1, 32)

// PluginContent decodes the plugin_content of a plug-in strictly (unknown
// fields and wrong types are errors) into the message of its type.
func PluginContent(p *apigwv1.Plugin) (proto.Message, error) {
	var m proto.Message
	switch p.GetPluginType() {
	case PluginCORS:
		m = &apigwv1.CorsPluginContent{}
	case PluginSetRespHeaders:
		m = &apigwv1.SetRespHeadersContent{}
	case PluginProxyMirror:
		m = &apigwv1.ProxyMirrorContent{}
	case PluginJWTAuth:
		m = &apigwv1.JwtAuthContent{}
	case PluginThirdAuth:
		m = &apigwv1.ThirdAuthContent{}
	case PluginRateLimit:
		m = &apigwv1.RateLimitContent{}
	case PluginBreaker:
		m = &apigwv1.BreakerContent{}
	case PluginKafkaLog:
		m = &apigwv1.KafkaLogContent{}
	case PluginOIDCAuth:
		m = &apigwv1.OidcAuthContent{}
	case PluginProxyCache:
		m = &apigwv1.ProxyCacheContent{}
	default:
		return nil, fmt.Errorf("plug-in type %q is not supported", p.GetPluginType())
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal([]byte(p.GetPluginContent()), m); err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "proto: ")
		return nil, fmt.Errorf("is not a valid %s content: %s", p.GetPluginType(), msg)
	}
	if k, ok := m.(*apigwv1.KafkaLogContent); ok && k.GetSaslConfig().GetSaslPassword() == "" && p.GetPluginSecret() != "" {
		if k.SaslConfig == nil {
			k.SaslConfig = &apigwv1.KafkaSaslConfig{}
		}
		k.SaslConfig.SaslPassword = p.GetPluginSecret()
	}
	return m, nil
}

// CorsContent returns the content of a cors plug-in (nil if it does not
// decode).
func CorsContent(p *apigwv1.Plugin) *apigwv1.CorsPluginContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.CorsPluginContent)
	return c
}

// RespHeadersContent returns the content of a set_resp_headers plug-in.
func RespHeadersContent(p *apigwv1.Plugin) *apigwv1.SetRespHeadersContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.SetRespHeadersContent)
	return c
}

// MirrorContent returns the content of a proxy_mirror plug-in.
func MirrorContent(p *apigwv1.Plugin) *apigwv1.ProxyMirrorContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.ProxyMirrorContent)
	return c
}

func validatePlugin(c checker, p *apigwv1.Plugin, lim Limits) {
	if c.required("plugin_name", p.PluginName) && !rePluginName.MatchString(p.PluginName) {
		c.add("plugin_name", "must be 3-255 letters, CJK, digits, - or _, starting with a letter or CJK")
	}
	c.oneOf("plugin_scope", p.PluginScope, PluginScopeGlobal)
	c.maxLen("remark", p.Remark, 255)
	if p.PluginSecret != "" && p.PluginType != PluginKafkaLog {
		c.add("plugin_secret", "is only used by kafka_log plug-ins (their SASL password)")
	}
	if !c.required("plugin_type", p.PluginType) {
		return
	}
	validatePluginSecret(c, p)
	if !slices.Contains(pluginTypes, p.PluginType) {
		c.oneOf("plugin_type", p.PluginType, pluginTypes...)
		return
	}
	if !c.required("plugin_content", p.PluginContent) {
		return
	}
	c.maxLen("plugin_content", p.PluginContent, 65535)
	m, err := PluginContent(p)
	if err != nil {
		c.add("plugin_content", "%v", err)
		return
	}
	cc := c.at("plugin_content")
	switch v := m.(type) {
	case *apigwv1.CorsPluginContent:
		validateCorsContent(cc, v)
	case *apigwv1.SetRespHeadersContent:
		validateRespHeaders(cc, v)
	case *apigwv1.ProxyMirrorContent:
		validateMirror(cc, v)
	case *apigwv1.JwtAuthContent:
		validateJWTAuth(cc, v)
	case *apigwv1.ThirdAuthContent:
		validateThirdAuth(cc, v)
	case *apigwv1.RateLimitContent:
		validateRateLimit(cc, v, lim)
	case *apigwv1.BreakerContent:
		validateBreaker(cc, v, lim)
	case *apigwv1.KafkaLogContent:
		validateKafkaLog(cc, v)
	case *apigwv1.OidcAuthContent:
		validateOIDCAuth(cc, v)
	case *apigwv1.ProxyCacheContent:
		validateProxyCache(cc, v)
	}
}

// corsProtected are response headers the cors plug-in owns.
func corsProtected(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "access-control-")
}

// gatewayHeader reports response headers the gateway sets itself.
func gatewayHeader(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "x-apig-") || n == "x-request-id"
}

var corsMethods = []string{"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"}

func validateCorsContent(c checker, v *apigwv1.CorsPluginContent) {
	origins := SplitList(v.AllowOrigin)
	if len(origins) == 0 {
		c.add("allow_origin", "is required (\"*\" or comma-separated origins)")
	}
	for _, o := range origins {
		if o == "*" {
			if len(origins) > 1 {
				c.add("allow_origin", "\"*\" cannot be combined with other origins")
			}
			if v.AllowCredentials {
				c.add("allow_origin", "\"*\" cannot be combined with allow_credentials: name the origins")
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || HasControl(o) {
			c.add("allow_origin", "%q is not an origin (scheme://host[:port])", o)
		}
	}
	methods := SplitList(v.AllowMethods)
	if len(methods) == 0 {
		c.add("allow_methods", "is required")
	}
	for _, m := range methods {
		ok := false
		for _, a := range corsMethods {
			ok = ok || strings.EqualFold(m, a)
		}
		if !ok && m != "*" {
			c.add("allow_methods", "%q is not an HTTP method (%s)", m, strings.Join(corsMethods, ", "))
		}
	}
	for _, f := range []struct{ name, v string }{{"allow_headers", v.AllowHeaders}, {"expose_headers", v.ExposeHeaders}} {
		for _, h := range SplitList(f.v) {
			if h != "*" && !ValidHeaderName(h) {
				c.add(f.name, "%q is not a header name", h)
			}
		}
		c.maxLen(f.name, f.v, 1024)
	}
	c.rangeInt("max_age", v.MaxAge, 0, 2147483647)
}

// CorsAllowsMethod reports whether a cors content allows an API method.
func CorsAllowsMethod(v *apigwv1.CorsPluginContent, method string) bool {
	for _, m := range SplitList(v.AllowMethods) {
		if m == "*" || strings.EqualFold(m, method) {
			return true
		}
	}
	return false
}

func validateRespHeaders(c checker, v *apigwv1.SetRespHeadersContent) {
	if len(v.ResponseHeaders) == 0 {
		c.add("response_headers", "is required (1-%d headers)", MaxRespHeaders)
	}
	if len(v.ResponseHeaders) > MaxRespHeaders {
		c.add("response_headers", "at most %d headers (got %d)", MaxRespHeaders, len(v.ResponseHeaders))
	}
	seen := map[string]bool{}
	for i, h := range v.ResponseHeaders {
		hc := c.idx("response_headers", i)
		if hc.required("name", h.Name) {
			switch {
			case !reRespHeaderName.MatchString(h.Name):
				hc.add("name", "must be 1-32 letters, digits or -, starting with a letter")
			case gatewayHeader(h.Name):
				hc.add("name", "%s is set by the gateway and cannot be changed", h.Name)
			case corsProtected(h.Name):
				hc.add("name", "%s is a CORS header and cannot be changed (use a cors plug-in)", h.Name)
			}
			if seen[strings.ToLower(h.Name)] {
				hc.add("name", "%q is listed twice (names are case-insensitive)", h.Name)
			}
			seen[strings.ToLower(h.Name)] = true
		}
		action := strings.ToLower(h.Action)
		if hc.required("action", h.Action) {
			hc.oneOf("action", action, HeaderOverride, HeaderAppend, HeaderDelete, HeaderSkip, HeaderAdd)
		}
		vt := h.ValueType
		if vt == "" {
			vt = ValueCustom
		}
		hc.oneOf("value_type", vt, ValueCustom, ValueSystem)
		hc.maxLen("value", h.Value, 255)
		checkWire(hc, "value", h.Value)
		switch {
		case vt == ValueSystem:
			if action != HeaderAdd && action != HeaderAppend {
				hc.add("action", "a system_parameter value can only be used with add or append")
			}
			name, ok := strings.CutPrefix(h.Value, "$context.")
			known := false
			for _, k := range pluginContextVars {
				known = known || (ok && name == k)
			}
			if !known {
				hc.add("value", "must be one of the system values $context.%s (got %q)", strings.Join(pluginContextVars, ", $context."), h.Value)
			}
		case action != HeaderDelete && h.Value == "":
			hc.add("value", "is required for %s", action)
		}
	}
}

func validateMirror(c checker, v *apigwv1.ProxyMirrorContent) {
	if c.required("protocol", v.Protocol) {
		c.oneOf("protocol", strings.ToUpper(v.Protocol), "HTTP", "HTTPS")
	}
	if c.required("host", v.Host) {
		c.maxLen("host", v.Host, 255)
		if err := CheckHostPort(v.Host); err != nil {
			c.add("host", "%v", err)
		}
	}
	if v.Path != "" {
		c.add("path", "is not supported: Envoy mirrors a request with its original path (leave path empty)")
	}
	if v.PathConcatMode != "" {
		c.oneOf("path_concat_mode", strings.ToLower(v.PathConcatMode), "replace", "prefix")
	}
	if v.SampleRatio != nil && (*v.SampleRatio < MirrorMinSampleRatio || *v.SampleRatio > 1) {
		c.add("sample_ratio", "must be between 0.00001 and 1 (got %g)", *v.SampleRatio)
	}
	if v.Timeout != nil {
		c.rangeInt("timeout", int64(*v.Timeout), 1, AbsoluteMaxTimeout)
	}
	if v.MirrorRequestBodyEnabled != nil && !*v.MirrorRequestBodyEnabled {
		c.add("mirror_request_body_enabled", "false is not supported: Envoy mirrors requests with their body")
	}
}

// PluginsFor returns the plug-ins bound to (API, environment), sorted by
// binding id.
func (in *Instance) PluginsFor(apiID, envID string) []*apigwv1.Plugin {
	var out []*apigwv1.Plugin
	for _, b := range bindings[*apigwv1.PluginBinding](in, KindPluginBinding, apiID, envID) {
		if p := get[*apigwv1.Plugin](in, KindPlugin, b.PluginId); p != nil {
			out = append(out, p)
		}
	}
	return out
}

// PluginOf returns the plug-in of a type bound to (API, environment).
func (in *Instance) PluginOf(apiID, envID, typ string) *apigwv1.Plugin {
	for _, p := range in.PluginsFor(apiID, envID) {
		if p.PluginType == typ {
			return p
		}
	}
	return nil
}

// checkPluginBinding verifies the rules a binding has with other objects:
// the cors rules (allowed method, one plug-in per path, no explicit
// OPTIONS API on the path) and the non-mock backend of proxy_mirror and
// rate_limit.
func (in *Instance) checkPluginBinding(c checker, b *apigwv1.PluginBinding) {
	p := get[*apigwv1.Plugin](in, KindPlugin, b.PluginId)
	api := in.API(b.ApiId)
	if p == nil || api == nil {
		return
	}
	switch p.PluginType {
	case PluginCORS:
		if cc := CorsContent(p); cc != nil && api.ReqMethod != MethodAny && !CorsAllowsMethod(cc, api.ReqMethod) {
			c.add("plugin_id", "cors plug-in %q does not allow the API's method %s (allow_methods)", p.PluginName, api.ReqMethod)
		}
		if cc := CorsContent(p); cc != nil && api.BackendType == BackendMock && strings.TrimSpace(cc.AllowOrigin) != "*" {
			c.add("plugin_id", "API %q has a mock backend, answered by Envoy without its cors filter: a cors plug-in bound to it must allow any origin (allow_origin \"*\")", api.Name)
		}
		shape := RouteShape(api.ReqUri)
		for _, other := range in.ReferrerIDs(KindGroup, api.GroupId, KindAPI) {
			o := in.API(other)
			if o == nil || RouteShape(o.ReqUri) != shape {
				continue
			}
			if o.ReqMethod == "OPTIONS" {
				c.add("api_id", "API %q answers OPTIONS on %s itself: a cors plug-in cannot be bound to this path", o.Name, api.ReqUri)
			}
			if o.Id == api.Id {
				continue
			}
			if q := in.PluginOf(o.Id, b.EnvId, PluginCORS); q != nil && q.Id != p.Id {
				c.add("plugin_id", "API %q on the same path uses cors plug-in %q in this environment: APIs sharing a path must use the same cors plug-in", o.Name, q.PluginName)
			}
		}
	case PluginProxyMirror:
		if api.BackendType == BackendMock {
			c.add("api_id", "API %q has a mock backend: proxy_mirror needs a backend to mirror", api.Name)
		}
	case PluginRateLimit:
		if api.BackendType == BackendMock {
			c.add("api_id", "API %q has a mock backend, answered by Envoy without its rate-limit filter: a rate_limit plug-in cannot be bound to it", api.Name)
		}
	case PluginBreaker:
		if api.BackendType == BackendMock {
			c.add("api_id", "API %q has a mock backend: a breaker needs a backend to protect", api.Name)
		}
	case PluginOIDCAuth:
		if strings.ToUpper(api.ReqProtocol) == ProtoHTTP {
			c.add("api_id", "API %q accepts HTTP only: an oidc_auth plug-in needs HTTPS (Envoy's session cookies are Secure; use HTTPS or BOTH)", api.Name)
		}
	case PluginProxyCache:
		if !ProxyCacheMethod(api.ReqMethod) {
			c.add("api_id", "API %q uses %s: a proxy_cache plug-in caches GET APIs and the GET and HEAD requests of ANY APIs (HEAD APIs are not supported yet)", api.Name, api.ReqMethod)
		}
	}
}

// checkAPIPlugins verifies that an API still fits the plug-ins bound to it.
func (in *Instance) checkAPIPlugins(c checker, api *apigwv1.Api) {
	for _, bid := range in.ReferrerIDs(KindAPI, api.Id, KindPluginBinding) {
		b := get[*apigwv1.PluginBinding](in, KindPluginBinding, bid)
		p := get[*apigwv1.Plugin](in, KindPlugin, b.GetPluginId())
		if p == nil {
			continue
		}
		switch p.PluginType {
		case PluginCORS:
			if cc := CorsContent(p); cc != nil && api.ReqMethod != MethodAny && !CorsAllowsMethod(cc, api.ReqMethod) {
				c.add("req_method", "cors plug-in %q bound to the API does not allow %s", p.PluginName, api.ReqMethod)
			}
			if cc := CorsContent(p); cc != nil && api.BackendType == BackendMock && strings.TrimSpace(cc.AllowOrigin) != "*" {
				c.add("backend_type", "cors plug-in %q bound to the API names origins: a mock API needs allow_origin \"*\"", p.PluginName)
			}
		case PluginProxyMirror:
			if api.BackendType == BackendMock {
				c.add("backend_type", "proxy_mirror plug-in %q is bound to the API: a mock backend cannot be mirrored", p.PluginName)
			}
		case PluginRateLimit:
			if api.BackendType == BackendMock {
				c.add("backend_type", "rate_limit plug-in %q is bound to the API: Envoy answers a mock backend without its rate-limit filter", p.PluginName)
			}
		case PluginBreaker:
			if api.BackendType == BackendMock {
				c.add("backend_type", "breaker plug-in %q is bound to the API: a mock backend has nothing to protect", p.PluginName)
			}
		case PluginOIDCAuth:
			if strings.ToUpper(api.ReqProtocol) == ProtoHTTP {
				c.add("req_protocol", "oidc_auth plug-in %q is bound to the API: it needs HTTPS (HTTPS or BOTH)", p.PluginName)
			}
		case PluginProxyCache:
			if !ProxyCacheMethod(api.ReqMethod) {
				c.add("req_method", "proxy_cache plug-in %q is bound to the API: only GET and ANY APIs can be cached", p.PluginName)
			}
		}
	}
	if api.ReqMethod == "OPTIONS" {
		shape := RouteShape(api.ReqUri)
		for _, other := range in.ReferrerIDs(KindGroup, api.GroupId, KindAPI) {
			o := in.API(other)
			if o == nil || o.Id == api.Id || RouteShape(o.ReqUri) != shape {
				continue
			}
			for _, bid := range in.ReferrerIDs(KindAPI, o.Id, KindPluginBinding) {
				b := get[*apigwv1.PluginBinding](in, KindPluginBinding, bid)
				if p := get[*apigwv1.Plugin](in, KindPlugin, b.GetPluginId()); p != nil && p.PluginType == PluginCORS {
					c.add("req_method", "API %q on this path has cors plug-in %q bound: an OPTIONS API would conflict with its preflight answers", o.Name, p.PluginName)
				}
			}
		}
	}
}

// checkPluginUse verifies that a changed plug-in still fits the APIs it
// is bound to.
func (in *Instance) checkPluginUse(c checker, p *apigwv1.Plugin) {
	if p.PluginType == PluginBreaker {
		in.checkBreakerRefs(c, p)
	}
	if p.PluginType == PluginThirdAuth {
		if v := ThirdAuthContentOf(p); v != nil {
			if _, err := in.ThirdAuthChannelOf(v); err != nil {
				c.add("plugin_content.auth_request.vpc_channel_info.vpc_id", "%v", err)
			}
		}
	}
	for _, bid := range in.ReferrerIDs(KindPlugin, p.Id, KindPluginBinding) {
		b := get[*apigwv1.PluginBinding](in, KindPluginBinding, bid)
		if b == nil {
			continue
		}
		var vs Violations
		in.checkPluginBinding(newChecker(&vs, ""), b)
		for _, v := range vs {
			c.add("plugin_content", "binding %s: %s", b.Id, v.String())
		}
	}
}
