package translate

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model/gwresp"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// defaultMaxDirectBody is Envoy's default cap on direct response bodies.
const defaultMaxDirectBody = 4096

// virtualHost is a group's virtual host on one listener: its routes in
// priority order and a fallback route so that unknown paths, methods and
// stages get the group's NOT_FOUND gateway response. It returns nil for a
// group without domains.
func virtualHost(v *inputs.View, groupID string, domains []string, items []routeItem, https bool) (*routev3.VirtualHost, error) {
	if len(domains) == 0 {
		return nil, nil
	}
	routes := make([]*routev3.Route, 0, len(items)+1)
	for _, it := range items {
		if https {
			routes = append(routes, it.https)
		} else {
			routes = append(routes, it.http)
		}
	}
	fb, err := fallbackRoute(v, groupID)
	if err != nil {
		return nil, err
	}
	routes = append(routes, fb)
	// The policy selection header stays internal (set by ext_authz only).
	return &routev3.VirtualHost{Name: vhostName(groupID), Domains: domains, Routes: routes, RequestHeadersToRemove: []string{dataplane.ExtAuthzPolicyHeader, dataplane.ExtAuthzMethodHeader}}, nil
}

func fallbackRoute(v *inputs.View, groupID string) (*routev3.Route, error) {
	authz, err := toAny(extAuthzDisabled())
	if err != nil {
		return nil, err
	}
	r := notFoundRoute(v, groupID, fallbackRouteName(groupID), authz)
	return r, validate(r)
}

// notFoundRoute is a catch-all ("/") route of a group that answers the
// group's NOT_FOUND response itself, with authz as its ext_authz setting.
func notFoundRoute(v *inputs.View, groupID, name string, authz *anypb.Any) *routev3.Route {
	rep := renderReply(v, groupID, "", gwresp.ErrAPINotFound)
	return &routev3.Route{
		Name:  name,
		Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
			Status: rep.status, BodyFormat: rep.body,
		}},
		ResponseHeadersToAdd: rep.headers,
		TypedPerFilterConfig: map[string]*anypb.Any{filterExtAuthz: authz},
		Metadata:             fallbackMetadata(v.Name(), groupID, gwresp.ErrAPINotFound.Code),
	}
}

// routeConfig assembles a RouteConfiguration from virtual hosts.
func routeConfig(name string, vhosts []*routev3.VirtualHost, maxBody int) *routev3.RouteConfiguration {
	rc := &routev3.RouteConfiguration{Name: name, VirtualHosts: vhosts, IgnorePortInHostMatching: true}
	if maxBody > defaultMaxDirectBody {
		rc.MaxDirectResponseBodySizeBytes = wrapU32(uint32(maxBody))
	}
	return rc
}
