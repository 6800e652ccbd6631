//lint:file-ignore SA1019 Envoy still honours these deprecated fields, so the emulator reads them too

package envoysim

import (
	"context"
	"fmt"
	"net/http"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matchingv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/matching/v3"
	bodysizev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/body_size_limit/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	oauth2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/oauth2/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Filter names (HttpFilter.name and typed_per_filter_config keys).
const (
	filterCORS      = "envoy.filters.http.cors"
	filterBodySize  = "envoy.filters.http.body_size_limit"
	filterRBAC      = "envoy.filters.http.rbac"
	filterExtAuthz  = "envoy.filters.http.ext_authz"
	filterRateLimit = "envoy.filters.http.ratelimit"
	filterRouter    = "envoy.filters.http.router"
)

// decode runs the HTTP filter chain; a non-nil response ends it.
func (s *stream) decode(ctx context.Context) (*Response, error) {
	for _, f := range s.hcm.GetHttpFilters() {
		if f.GetConfigDiscovery() != nil {
			return nil, fmt.Errorf("filter %s: ECDS is not emulated", f.GetName())
		}
		if err := s.resolve(); err != nil {
			return nil, err
		}
		per, set, disabled, err := s.perFilter(f.GetName())
		if err != nil {
			return nil, err
		}
		// A filter disabled by default runs where a per-route config
		// names it without disabling it (an empty FilterConfig too).
		if disabled || f.GetDisabled() && !set {
			s.tracef("filter %s: disabled", f.GetName())
			continue
		}
		var resp *Response
		switch f.GetName() {
		case filterCORS:
			resp, err = s.cors(per)
		case filterBodySize:
			cfg := &bodysizev3.BodySizeLimit{}
			if err = unpack(f.GetTypedConfig(), cfg); err == nil {
				resp = s.bodySizeLimit(cfg)
			}
		case filterRBAC:
			cfg := &rbacv3.RBAC{}
			if err = unpack(f.GetTypedConfig(), cfg); err == nil {
				resp, err = s.rbac(cfg, per)
			}
		case filterExtAuthz:
			cfg := &extauthzv3.ExtAuthz{}
			if err = unpack(f.GetTypedConfig(), cfg); err == nil {
				resp, err = s.extAuthz(ctx, cfg)
			}
		case filterRateLimit:
			cfg := &ratelimitv3.RateLimit{}
			if err = unpack(f.GetTypedConfig(), cfg); err == nil {
				resp, err = s.rateLimit(ctx, cfg)
			}
		case filterRouter:
			cfg := &routerv3.Router{}
			if err = unpack(f.GetTypedConfig(), cfg); err == nil {
				return s.router(ctx, cfg)
			}
		default:
			if f.GetTypedConfig().MessageIs(&extprocv3.ExternalProcessor{}) {
				resp, err = s.extProc(ctx, f.GetName(), f.GetTypedConfig(), per)
				break
			}
			if f.GetTypedConfig().MessageIs(&oauth2v3.OAuth2{}) {
				resp, err = s.oauth2(ctx, f.GetName(), f.GetTypedConfig(), per)
				break
			}
			if f.GetTypedConfig().MessageIs(&headermutationv3.HeaderMutation{}) {
				if err := s.headerMutationFilter(f.GetName(), f.GetTypedConfig(), per); err != nil {
					return nil, err
				}
				continue
			}
			if f.GetTypedConfig().MessageIs(&matchingv3.ExtensionWithMatcher{}) {
				if err := s.matchedFilter(f.GetName(), f.GetTypedConfig()); err != nil {
					return nil, err
				}
				continue
			}
			if f.GetIsOptional() {
				s.tracef("filter %s: optional and not emulated, skipped", f.GetName())
				continue
			}
			return nil, fmt.Errorf("HTTP filter %s is not emulated", f.GetName())
		}
		if err != nil {
			return nil, fmt.Errorf("filter %s: %w", f.GetName(), err)
		}
		if resp != nil {
			return resp, nil
		}
	}
	return nil, fmt.Errorf("the filter chain has no router")
}

func unpack(a *anypb.Any, m proto.Message) error {
	if err := a.UnmarshalTo(m); err != nil {
		return err
	}
	if v, ok := m.(interface{ ValidateAll() error }); ok {
		return v.ValidateAll()
	}
	return nil
}

// resolve selects the route unless it is cached.
func (s *stream) resolve() error {
	if s.resolved {
		return nil
	}
	s.resolved = true
	s.rc, s.vh, s.route = nil, nil, nil
	rc, err := s.cfg.routeConfig(s.hcm, s.hdr)
	if err != nil {
		return err
	}
	if rc == nil {
		s.tracef("no scope for :authority %q", s.hdr.Value(":authority"))
		return nil
	}
	s.rc = rc
	s.vh = virtualHost(rc, s.hdr.Value(":authority"))
	if s.vh == nil {
		s.tracef("route configuration %s: no virtual host for %q", rc.GetName(), s.hdr.Value(":authority"))
		return nil
	}
	if s.route, err = selectRoute(s.vh, s.hdr, s.streamID); err != nil {
		return err
	}
	s.tracef("route configuration %s, virtual host %s, route %q", rc.GetName(), s.vh.GetName(), s.route.GetName())
	return nil
}

// clearRouteCache makes the next filter select the route again.
func (s *stream) clearRouteCache() { s.resolved = false }

// perFilter returns the most specific per-route config of a filter (route,
// virtual host, route configuration), unwrapping FilterConfig, whether
// one is set (an empty FilterConfig enables a filter disabled by default)
// and whether it disables the filter.
func (s *stream) perFilter(name string) (per *anypb.Any, set, disabled bool, err error) {
	for _, m := range []map[string]*anypb.Any{s.route.GetTypedPerFilterConfig(), s.vh.GetTypedPerFilterConfig(), s.rc.GetTypedPerFilterConfig()} {
		a := m[name]
		if a == nil {
			continue
		}
		if a.MessageIs(&routev3.FilterConfig{}) {
			fc := &routev3.FilterConfig{}
			if err := a.UnmarshalTo(fc); err != nil {
				return nil, false, false, err
			}
			return fc.GetConfig(), true, fc.GetDisabled(), nil
		}
		return a, true, false, nil
	}
	return nil, false, false, nil
}

// bodySizeLimit rejects bodies over the instance limit (413).
func (s *stream) bodySizeLimit(cfg *bodysizev3.BodySizeLimit) *Response {
	if limit := cfg.GetMaxRequestBytes(); limit != nil && uint64(len(s.body)) > limit.GetValue() {
		return s.localReply(http.StatusRequestEntityTooLarge, "Payload Too Large", nil, "request_payload_too_large")
	}
	return nil
}

// cors answers preflights of routes with a CORS policy and marks simple
// cross-origin requests (the policy is skipped on direct responses).
func (s *stream) cors(per *anypb.Any) (*Response, error) {
	origin, ok := s.hdr.Get("origin")
	if per == nil || !ok || s.route.GetRoute() == nil {
		return nil, nil
	}
	p := &corsv3.CorsPolicy{}
	if err := unpack(per, p); err != nil {
		return nil, err
	}
	// Envoy allows an origin when a matcher matches "*" or the origin.
	allowed := false
	for _, m := range p.GetAllowOriginStringMatch() {
		for _, v := range []string{"*", origin} {
			if ok, err := matchString(m, v); err != nil {
				return nil, err
			} else if ok {
				allowed = true
			}
		}
	}
	credentials := p.GetAllowCredentials().GetValue()
	if !allowed {
		return nil, nil
	}
	if s.hdr.Value(":method") == http.MethodOptions && hasHeader(s.hdr, "access-control-request-method") {
		h := &Headers{}
		h.Set("access-control-allow-origin", origin)
		for k, v := range map[string]string{"access-control-allow-methods": p.GetAllowMethods(), "access-control-allow-headers": p.GetAllowHeaders(), "access-control-max-age": p.GetMaxAge()} {
			if v != "" {
				h.Set(k, v)
			}
		}
		if credentials {
			h.Set("access-control-allow-credentials", "true")
		}
		s.tracef("cors: preflight answered")
		return s.reply(http.StatusOK, nil, h, "cors_response"), nil
	}
	s.respAdd = append(s.respAdd, respHeader{name: "access-control-allow-origin", value: origin})
	if credentials {
		s.respAdd = append(s.respAdd, respHeader{name: "access-control-allow-credentials", value: "true"})
	}
	if v := p.GetExposeHeaders(); v != "" {
		s.respAdd = append(s.respAdd, respHeader{name: "access-control-expose-headers", value: v})
	}
	return nil, nil
}

// applyHeaderOptions applies HeaderValueOptions (values are formatter
// strings; empty results are skipped unless keep_empty_value).
func applyHeaderOptions(h *Headers, opts []*corev3.HeaderValueOption, x *fmtCtx) error {
	for _, o := range opts {
		v, err := formatText(o.GetHeader().GetValue(), "", x)
		if err != nil {
			return err
		}
		if v == "" && !o.GetKeepEmptyValue() {
			continue
		}
		setHeaderOption(h, o, v)
	}
	return nil
}

// mutationLevels returns the route, virtual-host and route-configuration
// header mutations in the order Envoy applies them.
func (s *stream) mutationLevels() []headerLevel {
	levels := []headerLevel{
		{s.route.GetRequestHeadersToAdd(), s.route.GetRequestHeadersToRemove(), s.route.GetResponseHeadersToAdd(), s.route.GetResponseHeadersToRemove()},
		{s.vh.GetRequestHeadersToAdd(), s.vh.GetRequestHeadersToRemove(), s.vh.GetResponseHeadersToAdd(), s.vh.GetResponseHeadersToRemove()},
		{s.rc.GetRequestHeadersToAdd(), s.rc.GetRequestHeadersToRemove(), s.rc.GetResponseHeadersToAdd(), s.rc.GetResponseHeadersToRemove()},
	}
	if s.rc.GetMostSpecificHeaderMutationsWins() {
		levels[0], levels[2] = levels[2], levels[0]
	}
	return levels
}

type headerLevel struct {
	reqAdd    []*corev3.HeaderValueOption
	reqRemove []string
	rspAdd    []*corev3.HeaderValueOption
	rspRemove []string
}

func (s *stream) fmtCtx(resp *Headers) *fmtCtx {
	return &fmtCtx{req: s.hdr, resp: resp, dynMeta: s.dynMeta, routeMeta: s.route.GetMetadata(), routeName: s.route.GetName(), remote: s.remote, local: s.local, peer: s.peer, t: &s.timing}
}

// finish adds the response headers Envoy sets on every response.
func (s *stream) finish(r *Response) {
	for _, h := range s.respAdd {
		if h.appendValue {
			r.Header.Add(h.name, h.value)
		} else {
			r.Header.Set(h.name, h.value)
		}
	}
	if s.hcm.GetAlwaysSetRequestIdInResponse() {
		r.Header.Set("x-request-id", s.hdr.Value("x-request-id"))
	}
	name := s.hcm.GetServerName()
	if name == "" {
		name = "envoy"
	}
	switch s.hcm.GetServerHeaderTransformation() {
	case hcmv3.HttpConnectionManager_OVERWRITE:
		r.Header.Set("server", name)
	case hcmv3.HttpConnectionManager_APPEND_IF_ABSENT:
		if r.Header.Get("server") == "" {
			r.Header.Set("server", name)
		}
	}
	r.Route = s.route.GetName()
	r.Cluster, r.Endpoint = s.cluster, s.endpoint
	r.Certificate = s.cert
	r.Trace = s.trace
}

// setHeaderOption sets one HeaderValueOption's header to v by its append
// (when set, the deprecated field wins) or append_action, as the HCM's
// header mutations and ext_proc do (ext_authz's OK headers differ:
// applyHeaderOption).
func setHeaderOption(h *Headers, o *corev3.HeaderValueOption, v string) {
	k := o.GetHeader().GetKey()
	action := o.GetAppendAction()
	if o.GetAppend() != nil {
		action = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
		if o.GetAppend().GetValue() {
			action = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
		}
	}
	_, exists := h.Get(k)
	switch action {
	case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
		h.Add(k, v)
	case corev3.HeaderValueOption_ADD_IF_ABSENT:
		if !exists {
			h.Add(k, v)
		}
	case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
		h.Set(k, v)
	case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
		if exists {
			h.Set(k, v)
		}
	}
}
