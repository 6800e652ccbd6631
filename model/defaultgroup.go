package model

import (
	"net/netip"
	"slices"
	"strings"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// DefaultGroupName names an instance's DEFAULT group: the group that
// answers requests whose Host is one of the gateway's own addresses
// (InstanceConfig.default_group_hosts), as APIG's DEFAULT group answers
// calls by the gateway's IP. Group names are unique in an instance, so
// there is at most one.
const DefaultGroupName = "DEFAULT"

// MaxDefaultGroupHosts bounds InstanceConfig.default_group_hosts.
const MaxDefaultGroupHosts = 50

// IsDefaultGroup reports whether g is its instance's DEFAULT group.
func IsDefaultGroup(g *apigwv1.ApiGroup) bool { return g.GetName() == DefaultGroupName }

// validateDefaultGroupHosts checks the gateway addresses of the DEFAULT
// group: IPv4 addresses in dotted form, each once. IPv6 is refused: the
// HTTP listener's scope key is the Host up to the first ':'.
func validateDefaultGroupHosts(c checker, hosts []string) {
	if len(hosts) > MaxDefaultGroupHosts {
		c.add("default_group_hosts", "at most %d addresses (got %d)", MaxDefaultGroupHosts, len(hosts))
	}
	seen := map[string]bool{}
	for i, h := range hosts {
		a, err := netip.ParseAddr(h)
		switch {
		case err != nil || a.Zone() != "":
			c.idx("default_group_hosts", i).add("", "must be an IPv4 address such as 192.0.2.10 (got %q)", h)
		case !a.Is4():
			c.idx("default_group_hosts", i).add("", "IPv6 addresses are not supported (got %q); use IPv4", h)
		case seen[h]:
			c.idx("default_group_hosts", i).add("", "%s is listed twice", h)
		}
		seen[h] = true
	}
}

// checkGatewayAddresses refuses a gateway address that is also a domain
// bound to a group: the host would belong to two groups. def is the
// instance definition (for an Instance being written) or nil (for a
// group being written into this view).
func (in *Instance) checkGatewayAddresses(c checker, def *apigwv1.Instance, g *apigwv1.ApiGroup) {
	if def != nil {
		bound := map[string]string{}
		for _, og := range List[*apigwv1.ApiGroup](in, KindGroup) {
			for _, d := range og.UrlDomains {
				bound[strings.ToLower(d.Domain)] = og.Name
			}
		}
		for i, h := range def.GetConfig().GetDefaultGroupHosts() {
			if name, ok := bound[h]; ok {
				c.idx("config.default_group_hosts", i).add("", "%s is bound as a domain of group %s", h, name)
			}
		}
		return
	}
	hosts := in.Config.GetDefaultGroupHosts()
	for i, d := range g.UrlDomains {
		if slices.Contains(hosts, strings.ToLower(d.Domain)) {
			c.idx("url_domains", i).add("domain", "%s is a gateway address of the instance (config.default_group_hosts): a request with it as Host is served by the DEFAULT group", d.Domain)
		}
	}
}
