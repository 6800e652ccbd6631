package translate

import (
	"fmt"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// singleHTTP puts every group's HTTP virtual host in RouteHTTP.
func (b *Builder) singleHTTP(groups []*apigwv1.ApiGroup, vhosts map[string]*groupMemo, am *appRouteMemo, out *Resources) error {
	var httpVhosts []*routev3.VirtualHost
	deps := []any{}
	maxBody := 0
	for _, g := range groups {
		gm := vhosts[g.Id]
		if gm.http != nil {
			httpVhosts = append(httpVhosts, gm.http)
			deps = append(deps, gm.http)
		}
		for _, vh := range gm.redirect {
			httpVhosts = append(httpVhosts, vh)
			deps = append(deps, vh)
		}
		if gm.http != nil || len(gm.redirect) > 0 {
			maxBody = max(maxBody, gm.maxBody)
		}
	}
	if am != nil {
		httpVhosts = append(httpVhosts, am.vh)
		deps = append(deps, am.vh)
		maxBody = max(maxBody, am.maxBody)
	}
	deps = append(deps, maxBody)
	if b.httpRC == nil || !sameDeps(b.httpRC.deps, deps) {
		rc := routeConfig(RouteHTTP, httpVhosts, maxBody)
		if err := validateShallow(rc); err != nil {
			return err
		}
		b.httpRC = &rcMemo{deps: deps, rc: rc}
	}
	out.Routes = append(out.Routes, b.httpRC.rc)
	return nil
}

// scopedHTTP gives each group its HTTP RouteConfiguration and a scope per
// exact host that selects it.
func (b *Builder) scopedHTTP(v *inputs.View, groups []*apigwv1.ApiGroup, vhosts map[string]*groupMemo, am *appRouteMemo, out *Resources) error {
	seen := map[string]bool{}
	for _, g := range groups {
		gm := vhosts[g.Id]
		if gm.http == nil && len(gm.redirect) == 0 {
			continue
		}
		seen[g.Id] = true
		deps := []any{gm.maxBody}
		var vhs []*routev3.VirtualHost
		if gm.http != nil {
			vhs = append(vhs, gm.http)
		}
		vhs = append(vhs, gm.redirect...)
		for _, vh := range vhs {
			deps = append(deps, vh)
		}
		m := b.httpGroupRC[g.Id]
		if m == nil || !sameDeps(m.deps, deps) {
			rc := routeConfig(RouteHTTPGroup(g.Id), vhs, gm.maxBody)
			if err := validateShallow(rc); err != nil {
				return err
			}
			m = &rcMemo{deps: deps, rc: rc}
			b.httpGroupRC[g.Id] = m
		}
		out.Routes = append(out.Routes, m.rc)
		for _, d := range gm.scopeHosts {
			if strings.HasPrefix(d, "*.") {
				out.Problems = append(out.Problems, model.APIProblem{Instance: v.Name(), Reason: fmt.Sprintf("group %s domain %s: wildcard domains are not served over HTTP by Envoys that use scoped routes (1.38 and newer); use --http-routing single", g.Id, d)})
				continue
			}
			sc := &routev3.ScopedRouteConfiguration{
				Name: ScopeName(d), RouteConfigurationName: RouteHTTPGroup(g.Id),
				Key: &routev3.ScopedRouteConfiguration_Key{Fragments: []*routev3.ScopedRouteConfiguration_Key_Fragment{{
					Type: &routev3.ScopedRouteConfiguration_Key_Fragment_StringKey{StringKey: d},
				}}},
			}
			if err := validate(sc); err != nil {
				return err
			}
			out.Scopes = append(out.Scopes, sc)
		}
	}
	for id := range b.httpGroupRC {
		if !seen[id] {
			delete(b.httpGroupRC, id)
		}
	}
	return b.scopedAppRoute(am, out)
}

// scopedAppRoute gives the gateway addresses with app_route their
// RouteConfiguration and a scope each.
func (b *Builder) scopedAppRoute(am *appRouteMemo, out *Resources) error {
	if am == nil {
		b.approuteRC = nil
		return nil
	}
	deps := []any{am.vh, am.maxBody}
	if b.approuteRC == nil || !sameDeps(b.approuteRC.deps, deps) {
		rc := routeConfig(RouteHTTPAppRoute, []*routev3.VirtualHost{am.vh}, am.maxBody)
		if err := validateShallow(rc); err != nil {
			return err
		}
		b.approuteRC = &rcMemo{deps: deps, rc: rc}
	}
	out.Routes = append(out.Routes, b.approuteRC.rc)
	scopes, err := appRouteScopes(am.vh)
	if err != nil {
		return err
	}
	out.Scopes = append(out.Scopes, scopes...)
	return nil
}
