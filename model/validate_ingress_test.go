package model_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Custom inbound ports: declared once per instance in range; a domain may
// only use a declared port of its protocol, and an instance cannot drop a
// port a domain uses.
func TestIngressPorts(t *testing.T) {
	inst := func(ports ...*apigwv1.IngressPort) *apigwv1.Instance {
		return &apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{IngressPorts: ports}}
	}
	http9080 := &apigwv1.IngressPort{Protocol: "HTTP", Port: 9080}
	https9443 := &apigwv1.IngressPort{Protocol: "HTTPS", Port: 9443}
	has := func(vs model.Violations, field, text string) bool {
		for _, v := range vs {
			if v.Field == field && strings.Contains(v.Description, text) {
				return true
			}
		}
		return false
	}
	lim := model.AbsoluteLimits()
	for _, c := range []struct {
		name        string
		ports       []*apigwv1.IngressPort
		field, text string
	}{
		{"protocol", []*apigwv1.IngressPort{{Protocol: "TCP", Port: 9080}}, "config.ingress_ports[0].protocol", "one of"},
		{"range", []*apigwv1.IngressPort{{Protocol: "HTTP", Port: 80}}, "config.ingress_ports[0].port", "1024-49151"},
		{"twice", []*apigwv1.IngressPort{http9080, {Protocol: "HTTPS", Port: 9080}}, "config.ingress_ports[1].port", "declared twice"},
	} {
		if vs := model.Validate(inst(c.ports...), lim); !has(vs, c.field, c.text) {
			t.Errorf("%s: violations %v, want %s: %s", c.name, vs, c.field, c.text)
		}
	}
	if vs := model.Validate(inst(http9080, https9443), lim); len(vs) > 0 {
		t.Errorf("valid ports refused: %v", vs)
	}

	group := &apigwv1.ApiGroup{Id: "g1", Name: "shop", UrlDomains: []*apigwv1.UrlDomain{
		{Domain: "a.example.com", IngressHttpPort: 9080, IngressHttpsPort: 9443},
	}}
	in := model.NewInstance(model.DefaultInstance, []proto.Message{inst(http9080, https9443), group})
	if vs := in.Check(group); len(vs) > 0 {
		t.Errorf("declared ports refused: %v", vs)
	}
	swapped := proto.Clone(group).(*apigwv1.ApiGroup)
	swapped.UrlDomains[0].IngressHttpPort, swapped.UrlDomains[0].IngressHttpsPort = 9443, 9080
	if vs := in.With([]proto.Message{swapped}, nil).Check(swapped); !has(vs, "url_domains[0].ingress_http_port", "HTTPS port") {
		t.Errorf("an HTTPS port used for HTTP: %v", vs)
	}
	undeclared := proto.Clone(group).(*apigwv1.ApiGroup)
	undeclared.UrlDomains[0].IngressHttpPort = 9081
	if vs := in.With([]proto.Message{undeclared}, nil).Check(undeclared); !has(vs, "url_domains[0].ingress_http_port", "not a custom inbound port") {
		t.Errorf("an undeclared port: %v", vs)
	}
	dropped := inst(https9443)
	if vs := in.With([]proto.Message{dropped}, nil).Check(dropped); !has(vs, "config.ingress_ports", "uses HTTP port 9080") {
		t.Errorf("a used port dropped: %v", vs)
	}
	same := proto.Clone(group).(*apigwv1.ApiGroup)
	same.UrlDomains[0].IngressHttpsPort = 9080
	if vs := model.Validate(same, lim); !has(vs, "url_domains[0].ingress_https_port", "HTTP port too") {
		t.Errorf("one port for both protocols: %v", vs)
	}
}
