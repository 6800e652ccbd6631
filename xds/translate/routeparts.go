package translate

import (
	"slices"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// routeAction is what a route does: forward to a cluster or answer
// directly, with the headers it adds.
type routeAction struct {
	route       *routev3.RouteAction
	direct      *routev3.DirectResponseAction
	reqHeaders  []*corev3.HeaderValueOption
	respHeaders []*corev3.HeaderValueOption
}

// route assembles one route: the frontend match, the method and stage
// matchers, a policy alternative, the action and the per-filter configs.
func (p *pubPlan) route(name string, m frontendMatch, method string, alt matchSet, a routeAction, authz *anypb.Any) *routev3.Route {
	match := m.routeMatch()
	if method != model.MethodAny {
		match.Headers = append(match.Headers, exactHeader(":method", method))
	}
	match.Headers = append(match.Headers, stageMatcher(p.env))
	match.Headers = append(match.Headers, alt.headers...)
	match.QueryParameters = alt.query
	tpfc := make(map[string]*anypb.Any, len(p.tpfc)+1)
	for k, v := range p.tpfc {
		tpfc[k] = v
	}
	tpfc[filterExtAuthz] = authz
	r := &routev3.Route{Name: name, Match: match, Metadata: p.metadata, TypedPerFilterConfig: tpfc}
	// set_resp_headers acts on the backend's (or the mock's) headers.
	r.ResponseHeadersToRemove = p.plugins.respRemove
	if a.direct != nil {
		r.Action = &routev3.Route_DirectResponse{DirectResponse: a.direct}
		// A mock's own headers stand for the backend's: those the plug-in
		// deletes are left out (Envoy removes before it adds).
		for _, h := range a.respHeaders {
			if !slices.Contains(p.plugins.respRemove, strings.ToLower(h.GetHeader().GetKey())) {
				r.ResponseHeadersToAdd = append(r.ResponseHeadersToAdd, h)
			}
		}
		r.ResponseHeadersToAdd = append(r.ResponseHeadersToAdd, p.plugins.respAdd...)
		p.applyCache(r)
		return r
	}
	r.Action = &routev3.Route_Route{Route: a.route}
	r.RequestHeadersToAdd = a.reqHeaders
	r.ResponseHeadersToAdd = p.plugins.respAdd
	p.applyCache(r)
	return r
}

// stageMatcher selects the environment: x-stage equal to its name, and
// for RELEASE also an absent header (docs/apig-semantics.md#environments).
func stageMatcher(env *apigwv1.Environment) *routev3.HeaderMatcher {
	if env.Id != model.ReleaseEnvID {
		return exactHeader(dataplane.StageHeader, env.Name)
	}
	return &routev3.HeaderMatcher{
		Name:                      dataplane.StageHeader,
		TreatMissingHeaderAsEmpty: true,
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "^(?:" + model.ReleaseEnvName + ")?$"}},
		}},
	}
}

// routeMetadata names the API in the route's metadata, for access logs
// (the access logger copies it into custom tags, see accesslog.go) and
// response templates (%METADATA(ROUTE:apigw:api_id)%). It is kept small:
// it is repeated on every route. errorCode is set on routes that answer
// with an APIG error themselves.
func routeMetadata(inst string, pub *apigwv1.Publication, errorCode string) *corev3.Metadata {
	f := map[string]*structpb.Value{
		dataplane.AccessLogRouteInstance: structpb.NewStringValue(inst),
		dataplane.AccessLogRouteGroup:    structpb.NewStringValue(pub.GetApi().GetGroupId()),
		dataplane.AccessLogRouteAPI:      structpb.NewStringValue(pub.ApiId),
		dataplane.AccessLogRouteAPIName:  structpb.NewStringValue(pub.GetApi().GetName()),
		dataplane.AccessLogRouteEnv:      structpb.NewStringValue(pub.EnvId),
	}
	if errorCode != "" {
		f[dataplane.AccessLogRouteErrorCode] = structpb.NewStringValue(errorCode)
	}
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{metadataNamespace: {Fields: f}}}
}

// mockAction answers with the mock's status, body and headers.
func (p *pubPlan) mockAction(m *mockBackend) (routeAction, error) {
	d := &routev3.DirectResponseAction{Status: uint32(m.status)}
	if m.body != "" {
		d.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: m.body}}
	}
	a := routeAction{direct: d}
	for _, h := range m.headers {
		a.respHeaders = append(a.respHeaders, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: h.Key, Value: escapeFormatter(h.Value)},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	switch {
	case p.plugins.cors != nil:
		a.respHeaders = append(a.respHeaders, corsPluginMockHeaders(p.plugins.cors)...)
	case p.api.Cors:
		a.respHeaders = append(a.respHeaders, corsMockHeaders()...)
	}
	return a, nil
}

// clusterAction forwards to a backend cluster with the API's timeout,
// retries, host header, hash policy and rate limits.
func (p *pubPlan) clusterAction(b *httpBackend, spec *clusterSpec, rw pathRewrite, hdrs []*corev3.HeaderValueOption) routeAction {
	timeout := b.timeout
	if timeout <= 0 {
		timeout = model.DefaultBackendTimeout
	}
	timeout = min(timeout, model.AbsoluteMaxTimeout)
	d := durationpb.New(time.Duration(timeout) * time.Millisecond)
	a := &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: spec.name},
		Timeout:          d,
		IdleTimeout:      d,
		RetryPolicy:      p.retryPolicy(b.retry),
		RateLimits:       p.rls,
		HashPolicy:       spec.hashPolicy(),
	}
	if p.plugins.mirrorPolicy != nil {
		a.RequestMirrorPolicies = []*routev3.RouteAction_RequestMirrorPolicy{p.plugins.mirrorPolicy}
	}
	switch {
	case b.usesChannel() && b.proxyHost != "":
		a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: b.proxyHost}
	case !b.usesChannel() && !b.function:
		a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: b.urlDomain}
	}
	rw.apply(a, &p.packer)
	return routeAction{route: a, reqHeaders: hdrs}
}

// retryPolicy maps APIG retry_count
// (docs/apig-semantics.md#retries-and-timeouts): -1 retries idempotent
// methods once, 0 never, n up to n times.
func (p *pubPlan) retryPolicy(count *int32) *routev3.RetryPolicy {
	n := int32(-1)
	if count != nil {
		n = *count
	}
	if n == 0 {
		return nil
	}
	rp := &routev3.RetryPolicy{RetryOn: "connect-failure,refused-stream,reset"}
	if n < 0 {
		rp.NumRetries = wrapU32(1)
		rp.RetriableRequestHeaders = []*routev3.HeaderMatcher{{
			Name:        ":method",
			InvertMatch: true,
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "^(?:POST|PATCH)$"}},
			}},
		}}
		return rp
	}
	rp.NumRetries = wrapU32(uint32(n))
	return rp
}
