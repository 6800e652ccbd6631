package translate

import (
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/xdstest"
)

// httpHCM returns the HTTP listener's connection manager.
func httpHCM(t *testing.T, ls []*listenerv3.Listener) *hcmv3.HttpConnectionManager {
	t.Helper()
	for _, l := range ls {
		if l.Name != ListenerHTTP {
			continue
		}
		h := &hcmv3.HttpConnectionManager{}
		if err := l.FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	t.Fatal("no HTTP listener")
	return nil
}

// singleView is what an Envoy served the single-routing variant gets.
func singleView(r *Resources) *Resources {
	v := &Resources{Listeners: r.SingleListeners, Routes: r.SingleRoutes, Clusters: r.Clusters, Endpoints: r.Endpoints, Secrets: r.Secrets}
	for _, rc := range r.Routes {
		if strings.HasPrefix(rc.Name, RouteHTTPS("")) {
			v.Routes = append(v.Routes, rc)
		}
	}
	return v
}

// TestRoutingModeNeverSwitches: the HTTP listener's routing mode depends
// on the options only, from an empty instance through the first group to
// many groups and a change of the listener itself. Scoped routing also
// carries the single-RDS variant for the Envoys that cannot use SRDS: the
// same listeners except the route specifier, and RouteHTTP made of the
// very virtual hosts of the group route configurations.
func TestRoutingModeNeverSwitches(t *testing.T) {
	one, err := xdstest.Instance(model.DefaultInstance, xdstest.Objects(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	many, err := xdstest.Instance(model.DefaultInstance, xdstest.Objects(5, 2))
	if err != nil {
		t.Fatal(err)
	}
	// A listener update: the instance's request body limit is in the HCM.
	changed := many.With([]proto.Message{&apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{RequestBodySize: 1 << 20}}}, nil)
	steps := []struct {
		name   string
		in     *model.Instance
		groups int
	}{
		{"empty", model.NewInstance(model.DefaultInstance, nil), 0},
		{"first group", one, 1},
		{"many groups", many, 5},
		{"listener update", changed, 5},
	}
	for _, mode := range []string{RoutingAuto, RoutingScoped, RoutingSingle} {
		t.Run(mode, func(t *testing.T) {
			b := NewBuilder(Options{HTTPRouting: mode})
			var prevListener *listenerv3.Listener
			for _, st := range steps {
				res, err := b.Build(st.in)
				if err != nil {
					t.Fatal(err)
				}
				checkResources(t, res)
				h := httpHCM(t, res.Listeners)
				if mode == RoutingSingle {
					if h.GetRds().GetRouteConfigName() != RouteHTTP || res.SingleListeners != nil || res.SingleRoutes != nil {
						t.Fatalf("%s: single routing serves %v (variant %d listeners)", st.name, h.RouteSpecifier, len(res.SingleListeners))
					}
					continue
				}
				if h.GetScopedRoutes() == nil {
					t.Fatalf("%s: the HTTP listener is not on scoped routes: %v", st.name, h.RouteSpecifier)
				}
				if len(res.Scopes) < st.groups {
					t.Fatalf("%s: %d scopes for %d groups", st.name, len(res.Scopes), st.groups)
				}
				if sh := httpHCM(t, res.SingleListeners); sh.GetRds().GetRouteConfigName() != RouteHTTP {
					t.Fatalf("%s: the single variant routes with %v", st.name, sh.RouteSpecifier)
				}
				a, s := proto.Clone(h).(*hcmv3.HttpConnectionManager), proto.Clone(httpHCM(t, res.SingleListeners)).(*hcmv3.HttpConnectionManager)
				a.RouteSpecifier, s.RouteSpecifier = nil, nil
				if !proto.Equal(a, s) || len(res.SingleListeners) != len(res.Listeners) {
					t.Fatalf("%s: the single variant differs from the scoped listeners beyond the route specifier", st.name)
				}
				checkResources(t, singleView(res))
				if len(res.SingleRoutes) != 1 || res.SingleRoutes[0].Name != RouteHTTP {
					t.Fatalf("%s: single routes %v", st.name, res.SingleRoutes)
				}
				var groupVhosts []*routev3.VirtualHost
				for _, rc := range res.Routes {
					if strings.HasPrefix(rc.Name, RouteHTTPGroup("")) {
						groupVhosts = append(groupVhosts, rc.VirtualHosts...)
					}
				}
				single := res.SingleRoutes[0].VirtualHosts
				if len(single) != st.groups || len(groupVhosts) != st.groups {
					t.Fatalf("%s: %d single and %d scoped virtual hosts, want %d", st.name, len(single), len(groupVhosts), st.groups)
				}
				for i := range single {
					if single[i] != groupVhosts[i] {
						t.Fatalf("%s: virtual host %s is not shared between the variants", st.name, single[i].Name)
					}
				}
				if st.name == "listener update" && proto.Equal(prevListener, res.Listeners[0]) {
					t.Fatal("the listener update did not change the listener")
				}
				prevListener = res.Listeners[0]
			}
		})
	}
}
