package model

import (
	"net/netip"

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
