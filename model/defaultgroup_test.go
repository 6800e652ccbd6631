package model_test

import (
	"fmt"
	"strings"
	"testing"

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
