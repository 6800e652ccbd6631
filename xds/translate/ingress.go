package translate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate/internal/inputs"
)

// groupPorts says on which listeners a group's hosts are served: the
// instance's HTTP and HTTPS listeners, or custom inbound ports
// (ingress_http_port / ingress_https_port of a domain: 0 the instance
// listener, -1 not served over that protocol, else that port). The debug
// sub-domain is always on the instance listeners.
type groupPorts struct {
	mainHTTP, mainHTTPS []string
	httpPorts           map[uint32][]string
	httpsPorts          map[uint32][]string
	// httpsPort is the custom HTTPS port of a domain (absent: the instance
	// listener or not served).
	httpsPort map[string]uint32
	problems  []model.APIProblem
}

// portsOf places a group's hosts on listeners. A custom port equal to one
// of the instance listener ports is served by that listener and reported.
func portsOf(v *inputs.View, groupID string, opts Options) groupPorts {
	gp := groupPorts{httpPorts: map[uint32][]string{}, httpsPorts: map[uint32][]string{}, httpsPort: map[string]uint32{}}
	byHost := map[string][2]int32{}
	if g := v.Group(groupID); g != nil {
		for _, d := range g.UrlDomains {
			byHost[strings.ToLower(d.Domain)] = [2]int32{d.IngressHttpPort, d.IngressHttpsPort}
		}
	}
	place := func(host string, port int32, proto string, own uint32, main *[]string, custom map[uint32][]string) uint32 {
		switch {
		case port == 0:
			*main = append(*main, host)
		case port < 0:
		case uint32(port) == opts.HTTPPort || uint32(port) == opts.HTTPSPort:
			gp.problems = append(gp.problems, model.APIProblem{Instance: v.Name(), Reason: fmt.Sprintf(
				"group %s domain %s: %s port %d is a port of the instance listeners; the domain is served over %s by the instance listener", groupID, host, proto, port, proto)})
			*main = append(*main, host)
		default:
			custom[uint32(port)] = append(custom[uint32(port)], host)
			return uint32(port)
		}
		return own
	}
	for _, h := range v.Hosts(groupID) {
		p := byHost[h]
		place(h, p[0], model.ProtoHTTP, 0, &gp.mainHTTP, gp.httpPorts)
		if port := place(h, p[1], model.ProtoHTTPS, 0, &gp.mainHTTPS, gp.httpsPorts); port != 0 {
			gp.httpsPort[h] = port
		}
	}
	return gp
}

// portRoutes adds the RouteConfigurations of the custom inbound ports: one
// per HTTP port with the virtual hosts of the hosts bound to it (every
// group's), one per group and HTTPS port.
func (b *Builder) portRoutes(groups []*apigwv1.ApiGroup, vhosts map[string]*groupMemo, lm *listenerMemo, out *Resources) error {
	seen := map[string]bool{}
	add := func(name string, vhs []*routev3.VirtualHost, maxBody int) error {
		seen[name] = true
		deps := []any{maxBody}
		for _, vh := range vhs {
			deps = append(deps, vh)
		}
		m := b.portRC[name]
		if m == nil || !sameDeps(m.deps, deps) {
			rc := routeConfig(name, vhs, maxBody)
			if err := validateShallow(rc); err != nil {
				return err
			}
			m = &rcMemo{deps: deps, rc: rc}
			b.portRC[name] = m
		}
		out.Routes = append(out.Routes, m.rc)
		return nil
	}
	for _, port := range lm.httpPorts {
		var vhs []*routev3.VirtualHost
		maxBody := 0
		for _, g := range groups {
			if gm := vhosts[g.Id]; len(gm.portHTTP[port]) > 0 {
				vhs = append(vhs, gm.portHTTP[port]...)
				maxBody = max(maxBody, gm.maxBody)
			}
		}
		if err := add(RouteHTTPPort(port), vhs, maxBody); err != nil {
			return err
		}
	}
	for _, g := range groups {
		gm := vhosts[g.Id]
		for _, port := range slices.Sorted(maps.Keys(gm.portHTTPS)) {
			if vh := gm.portHTTPS[port]; vh != nil && lm.tlsGroups[g.Id] {
				if err := add(RouteHTTPSPort(g.Id, port), []*routev3.VirtualHost{vh}, gm.maxBody); err != nil {
					return err
				}
			}
		}
	}
	for name := range b.portRC {
		if !seen[name] {
			delete(b.portRC, name)
		}
	}
	return nil
}
