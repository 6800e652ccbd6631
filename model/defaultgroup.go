package model

import (
	"net/netip"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// DefaultGroupName names an instance's DEFAULT group: the group that
// answers requests whose Host is one of the gateway's own addresses
// (InstanceConfig.default_group_hosts), as APIG's DEFAULT group answers
// calls by the gateway's IP. Group names are unique in an instance, so
// there is at most one. Every instance has one: a view without a stored
// group of that name holds the built-in one (id DefaultGroupID), as it
// holds the built-in environment RELEASE.
const DefaultGroupName = "DEFAULT"

// DefaultGroupID is the id of the built-in DEFAULT group (a DNS label: it
// forms the group's debug sub-domain).
const DefaultGroupID = "default-group"

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

// builtinDefaultGroup is the DEFAULT group of an instance that has not
// written one, as the admin API would store it.
func builtinDefaultGroup(cfg *apigwv1.InstanceConfig) *apigwv1.ApiGroup {
	g := &apigwv1.ApiGroup{Id: DefaultGroupID, Name: DefaultGroupName, Remark: "Built-in default group"}
	g.SlDomain = DebugDomain(g.Id, cfg)
	g.SlDomains = []string{g.SlDomain}
	Normalize(g)
	return g
}

// ensureDefaultGroup adds the built-in DEFAULT group when the view has no
// group named DEFAULT and the id is free.
func (e *Edit) ensureDefaultGroup() {
	in := e.in
	if len(in.Named(KindGroup, DefaultGroupName)) > 0 || in.Get(KindGroup, DefaultGroupID) != nil {
		return
	}
	in.builtinGroup = builtinDefaultGroup(in.Config)
	e.replace(KindGroup, DefaultGroupID, nil, in.builtinGroup)
}

// refreshBuiltinGroup rebuilds the built-in DEFAULT group after a change
// of the instance configuration (its debug sub-domain).
func (e *Edit) refreshBuiltinGroup() {
	in := e.in
	if !in.BuiltinDefaultGroup(DefaultGroupID) || in.builtinGroup.SlDomain == DebugDomain(DefaultGroupID, in.Config) {
		return
	}
	old := in.builtinGroup
	in.builtinGroup = builtinDefaultGroup(in.Config)
	e.replace(KindGroup, DefaultGroupID, old, in.builtinGroup)
}

// dropBuiltinGroup removes the built-in DEFAULT group (a stored group
// named DEFAULT is taking its place).
func (e *Edit) dropBuiltinGroup() {
	in := e.in
	if in.builtinGroup == nil {
		return
	}
	if old := in.Get(KindGroup, DefaultGroupID); old == proto.Message(in.builtinGroup) {
		e.replace(KindGroup, DefaultGroupID, old, nil)
	}
	in.builtinGroup = nil
}

// BuiltinDefaultGroup reports whether the group of that id is the built-in
// DEFAULT group as the view has it (not stored, never written).
func (in *Instance) BuiltinDefaultGroup(id string) bool {
	return in.builtinGroup != nil && id == DefaultGroupID && in.Get(KindGroup, id) == proto.Message(in.builtinGroup)
}

// StoredCount is Count without the built-in objects (environment RELEASE,
// the DEFAULT group) the view holds while none is stored.
func (in *Instance) StoredCount(kind string) int {
	n := in.Count(kind)
	switch {
	case kind == KindEnvironment && !in.Stored(KindEnvironment, ReleaseEnvID) && in.Get(KindEnvironment, ReleaseEnvID) != nil:
		n--
	case kind == KindGroup && in.BuiltinDefaultGroup(DefaultGroupID):
		n--
	}
	return n
}
