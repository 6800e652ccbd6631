package translate_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

// scopeTargets maps each scope key to its RouteConfiguration.
func scopeTargets(r *translate.Resources) map[string]string {
	out := map[string]string{}
	for _, sc := range r.Scopes {
		out[sc.GetKey().GetFragments()[0].GetStringKey()] = sc.GetRouteConfigurationName()
	}
	return out
}

// vhostDomains maps each virtual-host domain of the single HTTP
// RouteConfiguration to its virtual host.
func vhostDomains(r *translate.Resources) map[string]string {
	out := map[string]string{}
	for _, rc := range r.Routes {
		if rc.Name != translate.RouteHTTP {
			continue
		}
		for _, vh := range rc.VirtualHosts {
			for _, d := range vh.Domains {
				out[d] = vh.Name
			}
		}
	}
	return out
}

// The gateway addresses are served by the group named DEFAULT only, in
// both routing modes; the Builder follows changes of the addresses and a
// rename of the group, and without a DEFAULT group they are served by no
// group.
func TestDefaultGroupHosts(t *testing.T) {
	in := instance(t, 3, 2)
	g := proto.Clone(in.Group("g001")).(*apigwv1.ApiGroup)
	g.Name = model.DefaultGroupName
	withConfig := func(in *model.Instance, hosts ...string) *model.Instance {
		return in.With([]proto.Message{&apigwv1.Instance{Name: in.Name, Config: &apigwv1.InstanceConfig{DefaultGroupHosts: hosts}}}, nil)
	}
	type step struct {
		name  string
		in    *model.Instance
		hosts []string // the addresses the DEFAULT group g001 answers
	}
	noDefault := withConfig(in, "192.0.2.10")
	withDefault := noDefault.With([]proto.Message{g}, nil)
	steps := []step{
		{"no DEFAULT group", noDefault, nil},
		{"DEFAULT group", withDefault, []string{"192.0.2.10"}},
		{"addresses changed", withConfig(withDefault, "192.0.2.11", "198.51.100.7"), []string{"192.0.2.11", "198.51.100.7"}},
	}
	all := []string{"192.0.2.10", "192.0.2.11", "198.51.100.7"}
	for _, mode := range []string{translate.RoutingScoped, translate.RoutingSingle} {
		t.Run(mode, func(t *testing.T) {
			b := translate.NewBuilder(translate.Options{HTTPRouting: mode})
			for _, s := range steps {
				got, err := b.Build(s.in)
				if err != nil {
					t.Fatal(err)
				}
				want, err := translate.Build(s.in, translate.Options{HTTPRouting: mode})
				if err != nil {
					t.Fatal(err)
				}
				equalResources(t, got, want)
				for _, h := range all {
					var target, wantTarget string
					if mode == translate.RoutingScoped {
						target, wantTarget = scopeTargets(got)[h], translate.RouteHTTPGroup("g001")
					} else {
						target, wantTarget = vhostDomains(got)[h], "group.g001"
					}
					if !slices.Contains(s.hosts, h) {
						wantTarget = ""
					}
					if target != wantTarget {
						t.Errorf("%s: %s is served by %q, want %q", s.name, h, target, wantTarget)
					}
				}
			}
		})
	}
}

// The built-in DEFAULT group (never written) is left out while it holds
// no API; once it holds one it is served like any group: its debug
// sub-domain and the gateway addresses, in both routing modes.
func TestBuiltinDefaultGroupServedOnceItHoldsAnAPI(t *testing.T) {
	def := &apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{DefaultGroupHosts: []string{"192.0.2.10"}}}
	empty, err := xdstest.Instance(model.DefaultInstance, []proto.Message{def})
	if err != nil {
		t.Fatal(err)
	}
	held, err := xdstest.Instance(model.DefaultInstance, []proto.Message{def, xdstest.API(model.DefaultGroupID, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if !held.BuiltinDefaultGroup(model.DefaultGroupID) {
		t.Fatal("the DEFAULT group of the instance is not the built-in one")
	}
	debug := model.DebugDomain(model.DefaultGroupID, held.Config)
	for _, mode := range []string{translate.RoutingScoped, translate.RoutingSingle} {
		for _, c := range []struct {
			name   string
			in     *model.Instance
			served bool
		}{{"empty", empty, false}, {"with an API", held, true}} {
			got, err := translate.Build(c.in, translate.Options{HTTPRouting: mode})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"192.0.2.10", debug} {
				var target, want string
				if mode == translate.RoutingScoped {
					target, want = scopeTargets(got)[h], translate.RouteHTTPGroup(model.DefaultGroupID)
				} else {
					target, want = vhostDomains(got)[h], "group."+model.DefaultGroupID
				}
				if !c.served {
					want = ""
				}
				if target != want {
					t.Errorf("%s, %s: %s is served by %q, want %q", mode, c.name, h, target, want)
				}
			}
		}
	}
}
