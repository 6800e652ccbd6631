package translate

import (
	"fmt"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// buildCtx is what translating one publication reads: the instance,
// through a View that records the lookups, and the options.
type buildCtx struct {
	v    *inputs.View
	opts Options
}

// pubResult is the translation of one publication: its routes (not yet
// ordered) and the clusters they use, or the reason it is left out.
type pubResult struct {
	groupID string
	// apiID and appAuth (the API uses APP authentication and no oidc_auth
	// plug-in) choose the routes the gateway addresses serve with
	// app_route.
	apiID   string
	appAuth bool
	// authzTimeout is the longest ext_authz timeout of its routes (0: the
	// filter's).
	authzTimeout time.Duration
	items        []routeItem
	maxBody      int
	problem      string
	// blocked says why the API is answered with an error instead of being
	// served (model.Instance.Blocked); its routes are direct responses.
	blocked string
}

// routeItem is one route in its HTTP-listener and HTTPS-listener variants
// (they differ when the API accepts only one protocol) with its sort key.
type routeItem struct {
	key   routeKey
	http  *routev3.Route
	https *routev3.Route
	// cluster is the upstream of the route (nil for direct responses);
	// onHTTP and onHTTPS say on which listeners it forwards to it.
	cluster         *clusterSpec
	onHTTP, onHTTPS bool
	// mirror is the proxy_mirror cluster of the route, if any.
	mirror *clusterSpec
}

// Method ranks in the route order: method-specific routes, then CORS
// preflight routes, then ANY (docs/apig-semantics.md#route-priority).
const (
	methodSpecific = iota
	methodPreflight
	methodAny
)

// pubPlan holds what the routes of one publication share.
type pubPlan struct {
	c      *buildCtx
	pub    *apigwv1.Publication
	api    *apigwv1.Api
	env    *apigwv1.Environment
	fe     *frontend
	ext    bool // ext_authz checks the routes
	packer anyPacker
	res    *pubResult
	tpfc   map[string]*anypb.Any // cors and rbac configs
	// ipByEnvoy says that Envoy's remote address is the client IP.
	ipByEnvoy bool
	rls       []*routev3.RateLimit
	metadata  *corev3.Metadata
	plugins   pluginPlan
}

// translatePublication builds the routes of one (API, environment).
func (c *buildCtx) translatePublication(pub *apigwv1.Publication) *pubResult {
	res := &pubResult{groupID: pub.GetApi().GetGroupId(), apiID: pub.ApiId}
	err := c.planPublication(pub, res)
	for _, it := range res.items {
		if err != nil {
			break
		}
		if err = validate(it.http); err == nil && it.https != it.http {
			err = validate(it.https)
		}
	}
	if err != nil {
		return &pubResult{groupID: res.groupID, problem: err.Error()}
	}
	return res
}

func (c *buildCtx) planPublication(pub *apigwv1.Publication, res *pubResult) error {
	api := pub.GetApi()
	if api == nil {
		return fmt.Errorf("the publication record has no API definition")
	}
	env := c.v.Env(pub.EnvId)
	if env == nil {
		return fmt.Errorf("environment %s does not exist", pub.EnvId)
	}
	if !c.v.HasGroup(api.GroupId) {
		return fmt.Errorf("group %s does not exist", api.GroupId)
	}
	if fi := api.GetFuncInfo(); api.BackendType == model.BackendFunction && model.ResolveFunction(c.v.Config(), fi.GetFunctionUrn(), fi.GetVersion(), fi.GetAliasUrn()) == nil {
		return fmt.Errorf("function %s is not in the instance's function registry", fi.GetFunctionUrn())
	}
	for _, pf := range api.PolicyFunctions {
		if api.BackendType != model.BackendFunction {
			return fmt.Errorf("FUNCTION policy backend %s needs backend_type FUNCTION", pf.Name)
		}
		if model.ResolveFunction(c.v.Config(), pf.FunctionUrn, pf.Version, pf.AliasUrn) == nil {
			return fmt.Errorf("policy backend %s: function %s is not in the instance's function registry", pf.Name, pf.FunctionUrn)
		}
	}
	tmpl, err := model.ParseFrontendPath(api.ReqUri)
	if err != nil {
		return fmt.Errorf("req_uri %q: %v", api.ReqUri, err)
	}
	fe, err := parseFrontend(tmpl, api.ReqUri, api.MatchMode)
	if err != nil {
		return fmt.Errorf("req_uri %q cannot be matched by Envoy: %v", api.ReqUri, err)
	}
	p := &pubPlan{c: c, pub: pub, api: api, env: env, fe: fe, res: res, tpfc: map[string]*anypb.Any{}}
	if why := c.v.Blocked(pub.ApiId, pub.EnvId); why != "" {
		res.blocked = why
		return p.buildBlocked()
	}
	return p.build()
}

// buildBlocked answers every request of an API that cannot be served with
// the restrictions configured for it with the group's gateway response of
// gwresp.ErrPolicyUnavailable (fail closed), without ext_authz.
func (p *pubPlan) buildBlocked() error {
	p.metadata = routeMetadata(p.c.v.Name(), p.pub, gwresp.ErrPolicyUnavailable.Code)
	rep := renderReply(p.c.v, p.api.GroupId, p.api.ResponseId, gwresp.ErrPolicyUnavailable)
	a := routeAction{direct: &routev3.DirectResponseAction{Status: rep.status, BodyFormat: rep.body}, respHeaders: rep.headers}
	authz := p.packer.pack(extAuthzDisabled())
	for i, m := range p.fe.matches {
		r := p.route(routeName(p.api.Id, p.env.Name, "", i), m, p.api.ReqMethod, matchSet{}, a, authz)
		p.addItem(r, p.key(0, i, methodRank(p.api.ReqMethod)), i, nil)
	}
	return p.packer.err
}

func (p *pubPlan) build() error {
	api, v := p.api, p.c.v
	throttle := v.ThrottleFor(api.Id, p.env.Id)
	acls := v.ACLsFor(api.Id, p.env.Id)
	ipByEnvoy := envoyKnowsClientIP(v.Config())
	p.ipByEnvoy = ipByEnvoy
	if ipByEnvoy {
		rbac, err := rbacRoute(acls)
		if err != nil {
			return fmt.Errorf("ACL: %v", err)
		}
		if rbac != nil {
			p.tpfc[filterRBAC] = p.packer.pack(rbac)
		}
	}
	plugins, err := p.c.planPlugins(api, p.env.Id)
	if err != nil {
		return err
	}
	p.plugins = plugins
	// An oidc_auth plug-in's filter runs before ext_authz, on the routes
	// Envoy matched first: app_route (which matches the API's routes after
	// ext_authz) would skip it, so such an API is not reachable that way.
	p.res.appAuth = api.AuthType == model.AuthApp && plugins.oidc == ""
	switch {
	case plugins.cors != nil: // the plug-in overrides the API's cors flag
		p.tpfc[filterCORS] = p.packer.pack(corsPluginRoute(plugins.cors))
	case api.Cors:
		p.tpfc[filterCORS] = p.packer.pack(corsRoute())
	}
	if plugins.oidc != "" { // enable the plug-in's oauth2 filter (oidc.go)
		p.tpfc[oidcFilterName(plugins.oidc)] = p.packer.pack(oidcRouteConfig())
	}
	dims := throttleDims(api, throttle)
	if plugins.rateLimit != nil { // the plug-in replaces the throttling policy
		dims = pluginDims(api, plugins.rateLimit)
	}
	p.rls = p.c.opts.parts.rateLimits(v.Name(), api.Id, p.env.Id, dims, quotaDebugDomain(v, api.GroupId))
	p.metadata = routeMetadata(v.Name(), p.pub, "")

	targets, delegated, err := p.targets()
	if err != nil {
		return err
	}
	// A bound signature key: ext_authz signs the backend requests.
	signed := v.Signed(api.Id, p.env.Id)
	// A jwt_auth or third_auth plug-in: ext_authz verifies the token or
	// calls the authentication service; a breaker plug-in: ext_authz
	// answers for an open breaker.
	authPlugin := plugins.jwt || plugins.thirdTimeout > 0 || plugins.breaker
	p.ext = extAuthzNeeded(api, dims, acls, delegated || signed || authPlugin || (!ipByEnvoy && hasIPACL(acls)))

	for _, t := range targets {
		if err := p.addRoutes(t); err != nil {
			return err
		}
	}
	if p.corsOn() && api.ReqMethod != model.MethodAny && api.ReqMethod != "OPTIONS" && len(targets) > 0 {
		if err := p.addPreflight(targets[len(targets)-1]); err != nil {
			return err
		}
	}
	return p.packer.err
}

// target is a backend of the API (a policy backend or the default one)
// with the route actions of each frontend match.
type target struct {
	policy   string
	order    int
	alts     []matchSet
	byHeader bool // alts select the policy by dataplane.ExtAuthzPolicyHeader only
	actions  []routeAction
	cluster  *clusterSpec
	backend  string // backend authorizer
	maxBody  int
	isDirect bool
	// method is the method the backend is called with when it is not the
	// client's (model.BackendMethodChange).
	method string
	// group is the member group of a backend calling member groups
	// (membergroup.go), nil otherwise.
	group *groupSplit
}

// classMethodVariant places the routes that requests whose method
// ext_authz changed match again (dataplane.ExtAuthzMethodHeader) before
// every other route of the virtual host.
const classMethodVariant = classExact - 1

// targets plans the policy backends, in order, then the default backend.
func (p *pubPlan) targets() ([]target, bool, error) {
	var out []target
	delegated := false
	pols := policies(p.api, p.c.opts.FunctionsAddress)
	// An open breaker's http, http_vpc (the channel's cluster) and func
	// (the functions component) downgrades: policy backends without
	// conditions, selected by ext_authz (docs/plugins.md#breaker).
	for _, ph := range p.plugins.breakerPolicies {
		pols = append(pols, policy{name: ph.Name, http: policyHTTPBackend(ph), params: ph.BackendParams})
	}
	for _, pf := range p.plugins.breakerFunctions {
		pols = append(pols, policy{name: pf.Name, http: policyFunctionBackend(p.api, pf, p.c.opts.FunctionsAddress), params: pf.BackendParams})
	}
	for i, pol := range pols {
		alts, viaExt := policyMatches(p.api, pol)
		delegated = delegated || viaExt
		ts, d, err := p.backendTargets(pol.http, pol.mock, pol.params)
		if err != nil {
			return nil, false, fmt.Errorf("policy backend %s: %v", pol.name, err)
		}
		for _, t := range ts {
			t.policy, t.order, t.alts, t.byHeader = pol.name, i, alts, viaExt
			out = append(out, t)
		}
		delegated = delegated || d
	}
	var mock *mockBackend
	if p.api.BackendType == model.BackendMock {
		m := p.api.GetMockInfo()
		mock = &mockBackend{status: m.GetStatusCode(), body: m.GetResultContent(), headers: m.GetHeaders(), authorizerID: m.GetAuthorizerId()}
	}
	http := defaultHTTPBackend(p.api)
	if p.api.BackendType == model.BackendFunction {
		http = functionBackend(p.api, p.c.opts.FunctionsAddress)
	}
	if mock == nil && http == nil {
		return nil, false, fmt.Errorf("the API has no backend")
	}
	ts, d, err := p.backendTargets(http, mock, p.api.BackendParams)
	if err != nil {
		return nil, false, err
	}
	for _, t := range ts {
		t.order = len(pols)
		out = append(out, t)
	}
	return out, delegated || d, nil
}

func (p *pubPlan) target(http *httpBackend, mock *mockBackend, params []*apigwv1.BackendParam) (target, bool, error) {
	if mock != nil {
		a, err := p.mockAction(mock)
		if err != nil {
			return target{}, false, err
		}
		t := target{isDirect: true, backend: mock.authorizerID, maxBody: len(mock.body)}
		for range p.fe.matches {
			t.actions = append(t.actions, a)
		}
		return t, false, nil
	}
	spec, err := p.c.backendCluster(http)
	if err != nil {
		return target{}, false, err
	}
	hdrs, delegated := nativeHeaders(p.api, p.env.Name, p.ipByEnvoy, params, http.group)
	if http.function {
		hdrs = append(hdrs, functionHeaders(p.c.v.Name(), p.api.Id, p.env.Id, http.functionPolicy)...)
	}
	t := target{backend: http.authorizerID, cluster: spec, method: model.BackendMethodChange(p.api.ReqMethod, http.method)}
	for _, m := range p.fe.matches {
		rw, viaExt := planRewrite(m, p.api, http.uri, params)
		delegated = delegated || viaExt
		t.actions = append(t.actions, p.clusterAction(http, spec, rw, hdrs))
	}
	return t, delegated, nil
}

// addRoutes emits a target's routes: one per frontend match and match
// alternative, each in an HTTP and an HTTPS variant.
func (p *pubPlan) addRoutes(t target) error {
	role := ""
	if t.policy != "" {
		role = "policy." + t.policy
	}
	if t.group != nil {
		role = strings.TrimPrefix(role+".group."+itoa(t.group.index), ".")
	}
	alts := t.alts
	if len(alts) == 0 {
		alts = []matchSet{{}}
	}
	if t.policy != "" && !t.byHeader && p.ext {
		// ext_authz selects the policy too and may strip the parameters
		// its conditions read (pass_through: 2): the route matched again
		// after the check must still find the policy, by the header.
		alts = append(alts[:len(alts):len(alts)], policyHeaderMatch(t.policy))
	}
	authz := p.extAuthzConfig(t.policy, t.backend)
	bodyLimit := p.bodyBufferLimit()
	n := 0
	for i, m := range p.fe.matches {
		for _, alt := range alts {
			r := p.route(routeName(p.api.Id, p.env.Name, role, n), m, p.api.ReqMethod, alt, t.actions[i], authz)
			r.RequestBodyBufferLimit = bodyLimit
			t.group.split(r)
			p.addItem(r, p.key(t.order, t.group.variant(n), methodRank(p.api.ReqMethod)), i, t.cluster)
			n++
		}
	}
	if t.method != "" {
		p.addMethodVariants(t, role, authz, bodyLimit)
	}
	if t.isDirect && t.maxBody > p.res.maxBody {
		p.res.maxBody = t.maxBody
	}
	return nil
}

// addMethodVariants emits, for a backend called with another method than
// the client's, the routes Envoy matches when it selects the route again
// after ext_authz changed :method (a policy selected, query parameters
// set): the backend's method and ext_authz's marker for this backend, the
// same action. Routes matched first, before ext_authz, keep the frontend
// method; on Envoys that keep the route (clear_route_cache_headers) the
// variants are never used.
func (p *pubPlan) addMethodVariants(t target, role string, authz *anypb.Any, bodyLimit *wrapperspb.UInt64Value) {
	role = strings.TrimPrefix(role+".method", ".")
	marker := matchSet{headers: []*routev3.HeaderMatcher{
		exactHeader(dataplane.ExtAuthzMethodHeader, dataplane.ExtAuthzMethodRoute(p.api.Id, p.env.Id, t.policy)),
	}}
	for i, m := range p.fe.matches {
		r := p.route(routeName(p.api.Id, p.env.Name, role, i), m, t.method, marker, t.actions[i], authz)
		r.RequestBodyBufferLimit = bodyLimit
		t.group.split(r)
		key := p.key(t.order, t.group.variant(i), methodSpecific)
		key.class = classMethodVariant
		p.addItem(r, key, i, t.cluster)
	}
}

// addPreflight lets CORS preflights of a method-specific API match a route
// (the cors filter answers them); it reuses the default backend's action.
func (p *pubPlan) addPreflight(t target) error {
	authz := p.packer.pack(extAuthzDisabled())
	for i, m := range p.fe.matches {
		alt := matchSet{headers: []*routev3.HeaderMatcher{
			{Name: "access-control-request-method", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}},
		}}
		a := t.actions[i]
		if t.isDirect {
			a = corsPreflightResponse()
			if p.plugins.cors != nil {
				a = corsPluginPreflight(p.plugins.cors)
			}
		}
		r := p.route(routeName(p.api.Id, p.env.Name, "preflight", i), m, "OPTIONS", alt, a, authz)
		p.addItem(r, p.key(t.order, i, methodPreflight), i, t.cluster)
	}
	return nil
}

// addItem records a route; on the listener whose protocol the API does not
// accept it is replaced by APIG.0607 (docs/apig-semantics.md#api-paths).
func (p *pubPlan) addItem(r *routev3.Route, key routeKey, match int, cluster *clusterSpec) {
	it := routeItem{key: key, http: r, https: r, onHTTP: true, onHTTPS: true}
	if r.GetRoute() != nil {
		it.cluster = cluster
		if len(r.GetRoute().GetRequestMirrorPolicies()) > 0 {
			it.mirror = p.plugins.mirror
		}
	}
	switch p.api.ReqProtocol {
	case model.ProtoHTTP:
		it.https, it.onHTTPS = p.protocolRoute(r, match, model.ProtoHTTP), false
	case model.ProtoHTTPS:
		it.http, it.onHTTP = p.protocolRoute(r, match, model.ProtoHTTPS), false
	}
	p.res.items = append(p.res.items, it)
}

// corsOn says whether the API answers CORS: a cors plug-in, or else its
// cors flag.
func (p *pubPlan) corsOn() bool { return p.plugins.cors != nil || p.api.Cors }

func methodRank(method string) int {
	if method == model.MethodAny {
		return methodAny
	}
	return methodSpecific
}

func (p *pubPlan) key(order, variant, method int) routeKey {
	return routeKey{
		class: p.fe.class, segs: p.fe.segs, path: p.api.ReqUri, method: method,
		apiID: p.api.Id, env: p.env.Name, order: order, variant: variant,
	}
}

// protocolRoute answers a request on the wrong listener with APIG.0607.
func (p *pubPlan) protocolRoute(r *routev3.Route, match int, accepted string) *routev3.Route {
	e := gwresp.ErrProtocol
	e.Message = strings.ReplaceAll(e.Message, "{xxx}", accepted)
	rep := renderReply(p.c.v, p.api.GroupId, p.api.ResponseId, e)
	return &routev3.Route{
		Name:     r.Name + ".protocol",
		Match:    r.Match,
		Metadata: r.Metadata,
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
			Status: rep.status, BodyFormat: rep.body,
		}},
		ResponseHeadersToAdd: rep.headers,
		TypedPerFilterConfig: map[string]*anypb.Any{filterExtAuthz: p.packer.pack(extAuthzDisabled())},
	}
}

// bodyBufferLimit lets Envoy buffer the body ext_authz asks for on the
// routes of APIs whose check needs it: without it the connection's buffer
// limit (1 MiB unless the listener raises it) answers 413 before ext_authz
// has the body. Envoy applies a route's limit when the route is matched
// from 1.37 (envoyproxy/envoy#42607).
func (p *pubPlan) bodyBufferLimit() *wrapperspb.UInt64Value {
	if !p.ext || !p.bodyNeeded() {
		return nil
	}
	return wrapperspb.UInt64(maxSignedBody)
}

// bodyNeeded reports whether ext_authz needs the request body on the
// publication's routes: for the API (bodyNeeded) or for a third_auth
// plug-in that sends it to its service.
func (p *pubPlan) bodyNeeded() bool {
	return bodyNeeded(p.c.v, p.api) || p.plugins.thirdBody
}

// extAuthzConfig is the per-route ext_authz config of a target's routes.
func (p *pubPlan) extAuthzConfig(policyName, backendAuthorizer string) *anypb.Any {
	if !p.ext {
		return p.packer.pack(extAuthzDisabled())
	}
	body := p.bodyNeeded()
	timeout := authorizerTimeout(p.c.v, p.api, backendAuthorizer)
	// A third_auth service call is added to the check, which must outlast
	// it (and a custom authorizer's).
	if t := p.plugins.thirdTimeout; t > 0 {
		timeout += time.Duration(t) * time.Millisecond
		if timeout == time.Duration(t)*time.Millisecond {
			timeout += time.Second
		}
	}
	p.res.authzTimeout = max(p.res.authzTimeout, timeout)
	return p.packer.pack(extAuthzRoute(p.c.v.Name(), p.pub, policyName, body, timeout))
}
