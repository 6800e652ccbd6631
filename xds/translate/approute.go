package translate

import (
	"slices"
	"strings"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// appRouteMemo is the gateway addresses' virtual host with app_route,
// keyed like a group's (the DEFAULT group's id, the publications' results
// it copies and the Record of what building it read).
type appRouteMemo struct {
	rec     inputs.Record
	defID   string
	results []*pubResult
	vh      *routev3.VirtualHost
	maxBody int
	err     error
}

// appRoute builds (or reuses) the virtual host of the gateway addresses
// when config.app_route is on (nil otherwise, or without addresses).
func (b *Builder) appRoute(s *inputs.Snapshot, v *inputs.View, groups []*apigwv1.ApiGroup, byGroup map[string][]*pubResult) *appRouteMemo {
	cfg := v.Config()
	if !cfg.GetAppRoute() || len(cfg.GetDefaultGroupHosts()) == 0 {
		b.approute = nil
		return nil
	}
	defID := model.DefaultGroupID
	for _, g := range groups {
		if model.IsDefaultGroup(g) {
			defID = g.Id
		}
	}
	// The DEFAULT group's results first, then the other groups' APP
	// APIs, in group order (the results of a group are in API order).
	results := slices.Clone(byGroup[defID])
	nDefault := len(results)
	for _, g := range groups {
		if g.Id == defID {
			continue
		}
		for _, r := range byGroup[g.Id] {
			if r.appAuth {
				results = append(results, r)
			}
		}
	}
	if m := b.approute; m != nil && m.defID == defID && slices.Equal(m.results, results) && m.rec.Holds(s) {
		return m
	}
	tv := s.Track()
	m := &appRouteMemo{defID: defID, results: results}
	m.vh, m.maxBody, m.err = appRouteVirtualHost(tv, defID, results[:nDefault], results[nDefault:])
	m.rec = tv.Record()
	b.approute = m
	return m
}

// appRouteVirtualHost is the virtual host of the gateway addresses with
// app_route: first the copies of the other groups' APP API routes, each
// guarded by dataplane.ExtAuthzAppRouteHeader (only ext_authz sets it, so
// no request matches them before ext_authz chose the API), then the
// DEFAULT group's routes, then a catch-all checked by ext_authz, which
// picks the API from the calling app's authorizations and names it in the
// header; Envoy then matches the request again, onto the copy.
func appRouteVirtualHost(v *inputs.View, defID string, own, others []*pubResult) (*routev3.VirtualHost, int, error) {
	maxBody := 0
	var timeout time.Duration
	var guarded, items []routeItem
	for _, r := range others {
		for _, it := range r.items {
			guarded = append(guarded, routeItem{key: it.key, http: appRouteCopy(it.http, r.apiID)})
		}
		maxBody = max(maxBody, r.maxBody)
		timeout = max(timeout, r.authzTimeout)
	}
	for _, r := range own {
		items = append(items, r.items...)
		maxBody = max(maxBody, r.maxBody)
	}
	sortItems(guarded)
	sortItems(items)
	routes := make([]*routev3.Route, 0, len(guarded)+len(items)+1)
	for _, it := range append(guarded, items...) {
		routes = append(routes, it.http)
	}
	ca, err := appRouteCatchAll(v, defID, timeout)
	if err != nil {
		return nil, 0, err
	}
	routes = append(routes, ca)
	domains := slices.Clone(v.Config().GetDefaultGroupHosts())
	slices.Sort(domains)
	vh := &routev3.VirtualHost{Name: appRouteVhostName, Domains: slices.Compact(domains), Routes: routes,
		RequestHeadersToRemove: []string{dataplane.ExtAuthzPolicyHeader, dataplane.ExtAuthzMethodHeader, dataplane.ExtAuthzAppRouteHeader}}
	if err := validate(&routev3.VirtualHost{Name: vh.Name, Domains: vh.Domains}); err != nil {
		return nil, 0, err
	}
	return vh, maxBody, nil
}

// appRouteCopy is a route of an API guarded by the app_route header naming
// the API.
func appRouteCopy(r *routev3.Route, apiID string) *routev3.Route {
	cp := proto.Clone(r).(*routev3.Route)
	cp.Name = r.GetName() + ".approute"
	if cp.Match == nil {
		cp.Match = &routev3.RouteMatch{}
	}
	cp.Match.Headers = append(cp.Match.Headers, exactHeader(dataplane.ExtAuthzAppRouteHeader, apiID))
	return cp
}

// appRouteCatchAll takes the requests to a gateway address that match no
// route of the DEFAULT group: ext_authz chooses the API (and denies, with
// the DEFAULT group's responses, when there is none). Its own action, the
// DEFAULT group's NOT_FOUND response, answers only a request ext_authz
// allowed without naming an API, which it does not do.
//
// ext_authz runs the chosen API's whole check there, so the catch-all has
// the longest check timeout of the APIs it can choose (timeout, 0: the
// filter's) and receives the body.
func appRouteCatchAll(v *inputs.View, defID string, timeout time.Duration) (*routev3.Route, error) {
	cs := &extauthzv3.CheckSettings{
		ContextExtensions: map[string]string{
			dataplane.ExtAuthzCtxInstance: v.Name(),
			dataplane.ExtAuthzCtxGroup:    defID,
			dataplane.ExtAuthzCtxAppRoute: "1",
		},
		WithRequestBody: &extauthzv3.BufferSettings{MaxRequestBytes: maxSignedBody, AllowPartialMessage: true, PackAsBytes: true},
	}
	if timeout > 0 {
		cs.ServiceOverride = &extauthzv3.CheckSettings_GrpcService{GrpcService: grpcService(ClusterExtAuthz, timeout)}
	}
	authz, err := toAny(&extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{CheckSettings: cs}})
	if err != nil {
		return nil, err
	}
	r := notFoundRoute(v, defID, appRouteCatchAllName, authz)
	r.RequestBodyBufferLimit = wrapperspb.UInt64(maxSignedBody)
	return r, validate(r)
}

// appRouteScopes are the scopes of the gateway addresses with app_route
// (scoped mode), selecting RouteHTTPAppRoute.
func appRouteScopes(vh *routev3.VirtualHost) ([]*routev3.ScopedRouteConfiguration, error) {
	var out []*routev3.ScopedRouteConfiguration
	for _, d := range vh.Domains {
		sc := &routev3.ScopedRouteConfiguration{
			Name: ScopeName(strings.ToLower(d)), RouteConfigurationName: RouteHTTPAppRoute,
			Key: &routev3.ScopedRouteConfiguration_Key{Fragments: []*routev3.ScopedRouteConfiguration_Key_Fragment{{
				Type: &routev3.ScopedRouteConfiguration_Key_Fragment_StringKey{StringKey: d},
			}}},
		}
		if err := validate(sc); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}
