package ads_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

func httpRouting(t *testing.T, l *listenerv3.Listener) string {
	t.Helper()
	h := &hcmv3.HttpConnectionManager{}
	if err := l.FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(h); err != nil {
		t.Fatal(err)
	}
	switch {
	case h.GetScopedRoutes() != nil:
		return "scoped"
	case h.GetRds() != nil:
		return "rds " + h.GetRds().GetRouteConfigName()
	}
	return fmt.Sprintf("%T", h.RouteSpecifier)
}

// TestRoutingModePerEnvoy: with scoped routing (the default), an Envoy
// from 1.38 on gets scoped routes and an older one a single
// RouteConfiguration, from an empty instance through the first group to
// many groups and a listener update; neither listener ever changes mode,
// and both Envoys serve every group.
func TestRoutingModePerEnvoy(t *testing.T) {
	h := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.DiscardHandler)
	buildAuto := func(in *model.Instance) *translate.Resources {
		res, err := translate.Build(in, translate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	h.cache.Set(model.DefaultInstance, 1, buildAuto(model.NewInstance(model.DefaultInstance, nil)))

	envoys := map[string]string{"1.37.2": "rds apigw.http", "1.38.0": "scoped", "1.40.1": "scoped"}
	sims := map[string]*envoysim.ADS{}
	for v := range envoys {
		a, err := envoysim.Connect(ctx, h.addr, xdstest.Node("envoy-"+v, model.DefaultInstance, v), log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		sims[v] = a
	}
	many, err := xdstest.Instance(model.DefaultInstance, xdstest.Objects(5, 3))
	if err != nil {
		t.Fatal(err)
	}
	one, err := xdstest.Instance(model.DefaultInstance, xdstest.Objects(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		in     *model.Instance
		groups int
	}{
		{"empty", model.NewInstance(model.DefaultInstance, nil), 0},
		{"first group", one, 1},
		{"many groups", many, 5},
		{"listener update", many.With([]proto.Message{&apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{RequestBodySize: 1 << 20}}}, nil), 5},
	}
	lastListener := map[string]*listenerv3.Listener{}
	for i, st := range steps {
		h.cache.Set(model.DefaultInstance, int64(10+i), buildAuto(st.in))
		for v, a := range sims {
			wctx, wcancel := context.WithTimeout(ctx, xdstest.Wait)
			cfg, err := a.WaitFor(wctx, func(c *envoysim.Config) error {
				l := c.Listeners[translate.ListenerHTTP]
				if l == nil {
					return fmt.Errorf("no HTTP listener")
				}
				if st.name == "listener update" && proto.Equal(l, lastListener[v]) {
					return fmt.Errorf("listener not updated yet")
				}
				served := 0
				for _, rc := range c.Routes {
					served += len(rc.VirtualHosts)
				}
				if served != st.groups {
					return fmt.Errorf("%d virtual hosts served, want %d", served, st.groups)
				}
				return nil
			})
			wcancel()
			if err != nil {
				t.Fatalf("%s: Envoy %s: %v", st.name, v, err)
			}
			l := cfg.Listeners[translate.ListenerHTTP]
			if got := httpRouting(t, l); got != envoys[v] {
				t.Fatalf("%s: Envoy %s routes with %s, want %s", st.name, v, got, envoys[v])
			}
			if n := a.NACKs(); len(n) > 0 {
				t.Fatalf("%s: Envoy %s rejected %v", st.name, v, n)
			}
			lastListener[v] = l
		}
	}
	// A client that does not say it is an Envoy of a known release gets
	// the single RouteConfiguration too.
	c := xdstest.DialSotwAs(t, h.addr, &corev3.Node{Id: "other", Cluster: model.DefaultInstance})
	c.Subscribe(resource.ListenerType)
	r := c.Recv()
	for _, a := range r.Resources {
		l := &listenerv3.Listener{}
		if err := a.UnmarshalTo(l); err != nil {
			t.Fatal(err)
		}
		if l.Name == translate.ListenerHTTP {
			if got := httpRouting(t, l); got != "rds apigw.http" {
				t.Fatalf("a client of unknown version routes with %s", got)
			}
		}
	}
}
