package translate

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/dataplane"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// defaultMaxDirectBody is Envoy's default cap on direct response bodies.
const defaultMaxDirectBody = 4096

// groupDomains are the hosts a group answers: its debug sub-domain (unless
// disabled) and its bound domains, including wildcards.
func groupDomains(in *model.Instance, g *apigwv1.ApiGroup) []string {
	var out []string
	if g.SlDomainAccessEnabled == nil || g.GetSlDomainAccessEnabled() {
		out = append(out, strings.ToLower(model.DebugDomain(g.Id, in.Config)))
	}
	for _, d := range g.UrlDomains {
		out = append(out, strings.ToLower(d.Domain))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// claimHosts gives each host to one group (the first by id): Envoy rejects
// a whole route configuration or listener in which two virtual hosts,
// scopes or filter chains share a host, so a duplicate binding that got
// into the store is left out and reported instead.
func claimHosts(in *model.Instance, groups []*apigwv1.ApiGroup) (map[string][]string, []model.APIProblem) {
	owner := map[string]string{}
	hosts := map[string][]string{}
	var problems []model.APIProblem
	for _, g := range groups {
		for _, d := range groupDomains(in, g) {
			if o, taken := owner[d]; taken {
				problems = append(problems, model.APIProblem{Instance: in.Name, Reason: fmt.Sprintf("group %s domain %s: already bound to group %s; left out", g.Id, d, o)})
				continue
			}
			owner[d] = g.Id
			hosts[g.Id] = append(hosts[g.Id], d)
		}
	}
	return hosts, problems
}

// virtualHost is a group's virtual host on one listener: its routes in
// priority order and a fallback route so that unknown paths, methods and
// stages get the group's NOT_FOUND gateway response. It returns nil for a
// group without domains.
func virtualHost(in *model.Instance, g *apigwv1.ApiGroup, domains []string, items []routeItem, https bool) (*routev3.VirtualHost, error) {
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
	fb, err := fallbackRoute(in, g.Id)
	if err != nil {
		return nil, err
	}
	routes = append(routes, fb)
	// The policy selection header stays internal (set by ext_authz only).
	return &routev3.VirtualHost{Name: vhostName(g.Id), Domains: domains, Routes: routes, RequestHeadersToRemove: []string{dataplane.PolicyHeader}}, nil
}

func fallbackRoute(in *model.Instance, groupID string) (*routev3.Route, error) {
	rep := renderReply(in, groupID, "", gwresp.ErrAPINotFound)
	authz, err := toAny(extAuthzDisabled())
	if err != nil {
		return nil, err
	}
	r := &routev3.Route{
		Name:  fallbackRouteName(groupID),
		Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
			Status: rep.status, BodyFormat: rep.body,
		}},
		ResponseHeadersToAdd: rep.headers,
		TypedPerFilterConfig: map[string]*anypb.Any{filterExtAuthz: authz},
		Metadata:             fallbackMetadata(in.Name, groupID, gwresp.ErrAPINotFound.Code),
	}
	return r, validate(r)
}

// routeConfig assembles a RouteConfiguration from virtual hosts.
func routeConfig(name string, vhosts []*routev3.VirtualHost, maxBody int) *routev3.RouteConfiguration {
	rc := &routev3.RouteConfiguration{Name: name, VirtualHosts: vhosts, IgnorePortInHostMatching: true}
	if maxBody > defaultMaxDirectBody {
		rc.MaxDirectResponseBodySizeBytes = wrapU32(uint32(maxBody))
	}
	return rc
}
