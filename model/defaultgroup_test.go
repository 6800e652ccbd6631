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
