package translate_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate"
)

// appRouteNames are the route names of the gateway addresses' virtual
// host with app_route ("approute"), nil without it.
func appRouteNames(r *translate.Resources) []string {
	var out []string
	for _, rc := range r.Routes {
		for _, vh := range rc.VirtualHosts {
			if vh.Name != "approute" {
				continue
			}
			for _, rt := range vh.Routes {
				out = append(out, rt.Name)
			}
		}
	}
	return out
}

// With app_route the gateway addresses leave the DEFAULT group's virtual
// host for one of their own: the other groups' APP APIs guarded by the
// selection header first, then the DEFAULT group's routes, then the
// catch-all. The Builder follows app_route being turned on and off, in
// both routing modes, and equals Build.
func TestAppRouteVirtualHost(t *testing.T) {
	in := instance(t, 3, 2)
	g := proto.Clone(in.Group("g001")).(*apigwv1.ApiGroup)
	g.Name = model.DefaultGroupName
	in = in.With([]proto.Message{g}, nil)
	withConfig := func(on bool) *model.Instance {
		return in.With([]proto.Message{&apigwv1.Instance{Name: in.Name, Config: &apigwv1.InstanceConfig{DefaultGroupHosts: []string{"192.0.2.10"}, AppRoute: on}}}, nil)
	}
	steps := []struct {
		name string
		in   *model.Instance
		on   bool
	}{{"off", withConfig(false), false}, {"on", withConfig(true), true}, {"off again", withConfig(false), false}}
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
				var target, wantTarget string
				if mode == translate.RoutingScoped {
					target, wantTarget = scopeTargets(got)["192.0.2.10"], translate.RouteHTTPGroup("g001")
					if s.on {
						wantTarget = translate.RouteHTTPAppRoute
					}
				} else {
					target, wantTarget = vhostDomains(got)["192.0.2.10"], "group.g001"
					if s.on {
						wantTarget = "approute"
					}
				}
				if target != wantTarget {
					t.Errorf("%s: the gateway address is served by %q, want %q", s.name, target, wantTarget)
				}
				names := appRouteNames(got)
				if !s.on {
					if names != nil {
						t.Errorf("%s: app_route routes %v", s.name, names)
					}
					continue
				}
				// g000 and g002 each have one APP API (a0000); a0001 is not
				// APP; g001's own routes are served unguarded.
				var guarded, own []string
				for _, n := range names {
					switch {
					case strings.HasSuffix(n, ".approute"):
						guarded = append(guarded, n)
					case n != "approute.catchall":
						own = append(own, n)
					}
				}
				if len(guarded) == 0 || slices.ContainsFunc(guarded, func(n string) bool {
					return !strings.Contains(n, "g000-a0000") && !strings.Contains(n, "g002-a0000")
				}) || !slices.ContainsFunc(guarded, func(n string) bool { return strings.Contains(n, "g002-a0000") }) {
					t.Errorf("%s: guarded routes %v, want the routes of g000-a0000 and g002-a0000", s.name, guarded)
				}
				if len(own) == 0 || slices.ContainsFunc(own, func(n string) bool { return !strings.Contains(n, "g001-") }) {
					t.Errorf("%s: unguarded routes %v, want g001's", s.name, own)
				}
				if names[len(names)-1] != "approute.catchall" || slices.Index(names, own[0]) < slices.Index(names, guarded[len(guarded)-1]) {
					t.Errorf("%s: route order %v, want guarded, DEFAULT's, catch-all", s.name, names)
				}
			}
		})
	}
}
