package translate

import (
	"maps"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// redirectDomains returns the hosts of a group that redirect plain HTTP
// to HTTPS (is_http_redirect_to_https), with the HTTPS port each one is
// redirected to. A domain redirects only when it is served over HTTPS:
// it is one of the group's hosts and its certificate exists.
func redirectDomains(v *inputs.View, groupID string, opts Options) map[string]uint32 {
	g := v.Group(groupID)
	if g == nil {
		return nil
	}
	var out map[string]uint32
	hosts := v.Hosts(groupID)
	for _, d := range g.UrlDomains {
		dom := strings.ToLower(d.Domain)
		if !d.IsHttpRedirectToHttps || d.SslId == "" || d.IngressHttpsPort < 0 || !slices.Contains(hosts, dom) || v.Certificate(d.SslId) == nil {
			continue
		}
		if out == nil {
			out = map[string]uint32{}
		}
		out[dom] = httpsPortOf(d.IngressHttpsPort, opts)
	}
	return out
}

// httpsPortOf is the port a domain is served on over HTTPS, as clients
// see it: its own inbound port, or the instance's (Options.HTTPSRedirectPort,
// by default the HTTPS listener's port).
func httpsPortOf(ingress int32, opts Options) uint32 {
	if ingress > 0 {
		return uint32(ingress)
	}
	if opts.HTTPSRedirectPort != 0 {
		return opts.HTTPSRedirectPort
	}
	return opts.HTTPSPort
}

// redirectVirtualHosts builds, for the group's redirecting domains, one
// virtual host per HTTPS port whose routes answer each API that accepts
// HTTPS with a 301 redirect to the same URL over HTTPS; the routes of
// HTTP-only APIs and the fallback stay as on the group's HTTP virtual host.
// Ext_authz is off on the redirects: nothing reaches a backend.
func redirectVirtualHosts(v *inputs.View, groupID string, byDomain map[string]uint32, items []routeItem) ([]*routev3.VirtualHost, error) {
	if len(byDomain) == 0 {
		return nil, nil
	}
	byPort := map[uint32][]string{}
	for d, p := range byDomain {
		byPort[p] = append(byPort[p], d)
	}
	authz, err := toAny(extAuthzDisabled())
	if err != nil {
		return nil, err
	}
	fb, err := fallbackRoute(v, groupID)
	if err != nil {
		return nil, err
	}
	var out []*routev3.VirtualHost
	for _, port := range slices.Sorted(maps.Keys(byPort)) {
		domains := byPort[port]
		slices.Sort(domains)
		routes := make([]*routev3.Route, 0, len(items)+1)
		for _, it := range items {
			if !it.onHTTPS && it.onHTTP {
				routes = append(routes, it.http)
				continue
			}
			routes = append(routes, redirectRoute(it.https, port, authz))
		}
		routes = append(routes, fb)
		vh := &routev3.VirtualHost{Name: redirectVhostName(groupID, port), Domains: domains, Routes: routes, RequestHeadersToRemove: []string{dataplane.ExtAuthzPolicyHeader, dataplane.ExtAuthzMethodHeader}}
		if err := validate(vh); err != nil {
			return nil, err
		}
		out = append(out, vh)
	}
	return out, nil
}

// redirectRoute answers a route's requests with a 301 to https on port.
func redirectRoute(r *routev3.Route, port uint32, authz *anypb.Any) *routev3.Route {
	rr := &routev3.Route{
		Name:     r.Name + ".redirect",
		Match:    r.Match,
		Metadata: r.Metadata,
		Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
			SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
			PortRedirect:           port,
			ResponseCode:           routev3.RedirectAction_MOVED_PERMANENTLY,
		}},
		TypedPerFilterConfig: map[string]*anypb.Any{filterExtAuthz: authz},
	}
	return rr
}

// without returns list less the elements of drop.
func without(list []string, drop map[string]uint32) []string {
	if len(drop) == 0 {
		return list
	}
	out := make([]string, 0, len(list))
	for _, s := range list {
		if _, ok := drop[s]; !ok {
			out = append(out, s)
		}
	}
	return out
}
