package model_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// The gateway addresses of the DEFAULT group are IPv4 addresses, each
// once, at most MaxDefaultGroupHosts; anything else is refused naming the
// entry.
func TestDefaultGroupHosts(t *testing.T) {
	inst := func(hosts ...string) *apigwv1.Instance {
		return &apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{DefaultGroupHosts: hosts}}
	}
	has := func(vs model.Violations, field, text string) bool {
		for _, v := range vs {
			if v.Field == field && strings.Contains(v.Description, text) {
				return true
			}
		}
		return false
	}
	lim := model.AbsoluteLimits()
	var many []string
	for i := range model.MaxDefaultGroupHosts + 1 {
		many = append(many, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))
	}
	for _, c := range []struct {
		name        string
		hosts       []string
		field, text string
	}{
		{"host name", []string{"gw.example.com"}, "config.default_group_hosts[0]", "IPv4 address"},
		{"with a port", []string{"192.0.2.10:80"}, "config.default_group_hosts[0]", "IPv4 address"},
		{"IPv6", []string{"192.0.2.10", "2001:db8::1"}, "config.default_group_hosts[1]", "IPv6"},
		{"twice", []string{"192.0.2.10", "192.0.2.10"}, "config.default_group_hosts[1]", "twice"},
		{"too many", many, "config.default_group_hosts", "at most"},
	} {
		if vs := model.Validate(inst(c.hosts...), lim); !has(vs, c.field, c.text) {
			t.Errorf("%s: violations %v, want %s: %s", c.name, vs, c.field, c.text)
		}
	}
	if vs := model.Validate(inst("192.0.2.10", "198.51.100.7"), lim); len(vs) > 0 {
		t.Errorf("valid addresses refused: %v", vs)
	}
	if !model.IsDefaultGroup(&apigwv1.ApiGroup{Name: "DEFAULT"}) || model.IsDefaultGroup(&apigwv1.ApiGroup{Name: "default"}) {
		t.Error("IsDefaultGroup: the DEFAULT group is the group named DEFAULT, exactly")
	}
}

// A gateway address cannot also be a domain bound to a group: the
// instance and the group are each refused, naming the field.
func TestGatewayAddressNotADomain(t *testing.T) {
	def := &apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{DefaultGroupHosts: []string{"192.0.2.10"}}}
	g := &apigwv1.ApiGroup{Id: "g1", Name: "shop", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}, {Domain: "192.0.2.10"}}}
	in := model.NewInstance(model.DefaultInstance, []proto.Message{def, g})
	for _, c := range []struct {
		obj   proto.Message
		field string
	}{
		{def, "config.default_group_hosts[0]"},
		{g, "url_domains[1].domain"},
	} {
		vs := in.Check(c.obj)
		found := false
		for _, v := range vs {
			found = found || v.Field == c.field
		}
		if !found {
			t.Errorf("%T: violations %v, want one on %s", c.obj, vs, c.field)
		}
	}
	ok := model.NewInstance(model.DefaultInstance, []proto.Message{def, &apigwv1.ApiGroup{Id: "g1", Name: "shop", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}}}})
	if vs := ok.Check(def); len(vs) > 0 {
		t.Errorf("instance without a clash refused: %v", vs)
	}
}

// Every instance has a DEFAULT group: built in (like environment RELEASE)
// until a group of that name is stored, and back when it is deleted. The
// built-in group is not stored and not counted against the group quota.
func TestBuiltinDefaultGroup(t *testing.T) {
	in := model.NewInstance("x", nil)
	g := in.Group(model.DefaultGroupID)
	if !model.IsDefaultGroup(g) || in.Stored(model.KindGroup, model.DefaultGroupID) || !in.BuiltinDefaultGroup(model.DefaultGroupID) {
		t.Fatalf("an empty instance has no built-in DEFAULT group: %v", g)
	}
	if in.Count(model.KindGroup) != 1 || in.StoredCount(model.KindGroup) != 0 || in.StoredCount(model.KindEnvironment) != 0 {
		t.Errorf("counts %d/%d/%d, want 1 group of which 0 stored, 0 stored environments", in.Count(model.KindGroup), in.StoredCount(model.KindGroup), in.StoredCount(model.KindEnvironment))
	}

	// Writing the built-in group stores it; deleting it restores the
	// built-in one.
	e := in.Edit()
	e.Put(&apigwv1.ApiGroup{Id: model.DefaultGroupID, Name: model.DefaultGroupName, Remark: "mine"})
	w := e.Done()
	if !w.Stored(model.KindGroup, model.DefaultGroupID) || w.Group(model.DefaultGroupID).GetRemark() != "mine" || w.StoredCount(model.KindGroup) != 1 {
		t.Errorf("a written DEFAULT group is not stored: %v", w.Group(model.DefaultGroupID))
	}
	e = w.Edit()
	e.Delete(model.KindGroup, model.DefaultGroupID)
	d := e.Done()
	if !d.BuiltinDefaultGroup(model.DefaultGroupID) || d.Group(model.DefaultGroupID).GetRemark() == "mine" {
		t.Errorf("deleting the written DEFAULT group did not restore the built-in one: %v", d.Group(model.DefaultGroupID))
	}

	// A group stored under another id with the name DEFAULT (written
	// before the group was built in) takes its place; renaming or
	// deleting it brings the built-in one back.
	legacy := model.NewInstance("x", []proto.Message{&apigwv1.ApiGroup{Id: "dflt", Name: model.DefaultGroupName}})
	if legacy.Group(model.DefaultGroupID) != nil || len(legacy.Named(model.KindGroup, model.DefaultGroupName)) != 1 || legacy.Count(model.KindGroup) != 1 {
		t.Fatalf("a stored DEFAULT group did not replace the built-in one: %v", legacy.Named(model.KindGroup, model.DefaultGroupName))
	}
	e = legacy.Edit()
	e.Put(&apigwv1.ApiGroup{Id: "dflt", Name: "other"})
	if v := e.View(); !v.BuiltinDefaultGroup(model.DefaultGroupID) || v.Count(model.KindGroup) != 2 {
		t.Errorf("renaming the stored DEFAULT group did not restore the built-in one")
	}
	e.Put(&apigwv1.ApiGroup{Id: "dflt", Name: model.DefaultGroupName})
	e.Delete(model.KindGroup, "dflt")
	if v := e.Done(); !v.BuiltinDefaultGroup(model.DefaultGroupID) || v.Count(model.KindGroup) != 1 {
		t.Errorf("deleting the stored DEFAULT group did not restore the built-in one")
	}

	// The quota on groups counts the groups written only.
	def := &apigwv1.Instance{Name: "x", Config: &apigwv1.InstanceConfig{Quotas: &apigwv1.Quotas{ApiGroups: 1}}}
	one := &apigwv1.ApiGroup{Id: "g1", Name: "pets"}
	q := model.NewInstance("x", []proto.Message{def, one})
	if vs := q.Check(one); len(vs) > 0 {
		t.Errorf("one group within a quota of 1 refused (the built-in DEFAULT group counted): %v", vs)
	}
	two := &apigwv1.ApiGroup{Id: "g2", Name: "toys"}
	q = model.NewInstance("x", []proto.Message{def, one, two})
	if vs := q.Check(two); len(vs) == 0 {
		t.Error("a second group over a quota of 1 accepted")
	}
}

// The built-in DEFAULT group shows its debug sub-domain, which follows the
// instance's debug_domain_suffix, and answers it.
func TestBuiltinDefaultGroupDebugDomain(t *testing.T) {
	in := model.NewInstance("x", []proto.Message{&apigwv1.Instance{Name: "x", Config: &apigwv1.InstanceConfig{DebugDomainSuffix: "gw.example.com"}}})
	if g := in.Group(model.DefaultGroupID); g.GetSlDomain() != "default-group.gw.example.com" || !g.GetSlDomainAccessEnabled() {
		t.Errorf("built-in DEFAULT group %v, want sl_domain default-group.gw.example.com", g)
	}
	if g := in.GroupForHost("default-group.gw.example.com"); g.GetId() != model.DefaultGroupID {
		t.Errorf("debug sub-domain served by %v", g)
	}
	e := in.Edit()
	e.Put(&apigwv1.Instance{Name: "x", Config: &apigwv1.InstanceConfig{DebugDomainSuffix: "other.example.com"}})
	in = e.Done()
	if g := in.Group(model.DefaultGroupID); g.GetSlDomain() != "default-group.other.example.com" || !in.BuiltinDefaultGroup(model.DefaultGroupID) {
		t.Errorf("after a suffix change: %v", g)
	}
	if in.GroupForHost("default-group.gw.example.com") != nil || in.GroupForHost("default-group.other.example.com").GetId() != model.DefaultGroupID {
		t.Error("the debug sub-domain did not move with the suffix")
	}
}
