package ads_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/xds/ads"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdscache"
	"github.com/apigw/apigw/xds/xdstest"
)

type harness struct {
	addr   string
	cache  *xdscache.Cache
	status *live.Status
	events chan ads.Event
}

func start(t *testing.T) *harness {
	t.Helper()
	return startWith(t, slog.New(slog.DiscardHandler))
}

func startWith(t *testing.T, log *slog.Logger) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{cache: xdscache.New(log, xdscache.WithVersionPrefix("t.")), status: live.NewStatus(), events: make(chan ads.Event, 256)}
	srv := ads.New(ctx, h.cache, h.status, log, ads.Options{Observe: func(e ads.Event) { h.events <- e }})
	g := grpc.NewServer(ads.GRPCOptions()...)
	srv.Register(g)
	h.addr = testutil.ServeGRPC(t, g)
	return h
}

// event waits for the next ACK or NACK of a type.
func (h *harness) event(t *testing.T, typeURL string) ads.Event {
	t.Helper()
	for {
		select {
		case e := <-h.events:
			if e.TypeURL == typeURL {
				return e
			}
		case <-time.After(xdstest.Wait):
			t.Fatalf("no ACK/NACK of %s", typeURL)
		}
	}
}

func build(t *testing.T, in *model.Instance) *translate.Resources {
	t.Helper()
	res, err := translate.Build(in, translate.Options{HTTPRouting: translate.RoutingSingle, AccessLogAddress: translate.AccessLogOff})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func newInstance(t *testing.T, name string, apis int) *model.Instance {
	t.Helper()
	in, err := xdstest.Instance(name, xdstest.Objects(1, apis))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func change(t *testing.T, in *model.Instance, api, rev int) *model.Instance {
	t.Helper()
	next, err := xdstest.Change(in, "g000", api, rev)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func names(t *testing.T, rs []*anypb.Any) []string {
	t.Helper()
	var out []string
	for _, a := range rs {
		m, err := a.UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cachev3.GetResourceName(m))
	}
	slices.Sort(out)
	return out
}

func deltaNames(t *testing.T, r *discoveryv3.DeltaDiscoveryResponse) []string {
	t.Helper()
	var out []string
	for _, res := range r.Resources {
		out = append(out, res.Name)
	}
	slices.Sort(out)
	return out
}

func expectType(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("response of type %s, want %s", got, want)
	}
}

// nodeStatus returns what status says about one node and type.
func nodeStatus(t *testing.T, st *live.Status, node, typeURL string) live.NodeStatus {
	t.Helper()
	for _, n := range st.Nodes("") {
		if n.NodeID == node && n.TypeURL == typeURL {
			return n
		}
	}
	t.Fatalf("no status for node %s type %s", node, typeURL)
	return live.NodeStatus{}
}

// routeMentions reports whether a SotW route response contains s.
func routeMentions(t *testing.T, r *discoveryv3.DiscoveryResponse, s string) bool {
	t.Helper()
	for _, a := range r.Resources {
		if strings.Contains(string(a.Value), s) {
			return true
		}
	}
	return false
}

func TestSotwAckNack(t *testing.T) {
	h := start(t)
	in := newInstance(t, model.DefaultInstance, 3)
	h.cache.Set(model.DefaultInstance, 10, build(t, in))

	c := xdstest.DialSotw(t, h.addr, "envoy-1", model.DefaultInstance)
	c.Subscribe(resource.ClusterType)
	r := c.Recv()
	expectType(t, r.TypeUrl, resource.ClusterType)
	want := []string{"apigw.extauth", "apigw.ratelimit", "backend.http.10.0.0.1.8080", "backend.http.10.0.0.2.8080", "backend.http.10.0.0.3.8080"}
	if got := names(t, r.Resources); !slices.Equal(got, want) {
		t.Fatalf("clusters %v, want %v", got, want)
	}
	c.Ack(r)
	if e := h.event(t, resource.ClusterType); e.Nack || e.Revision != 10 {
		t.Fatalf("CDS event %+v, want an ACK of revision 10", e)
	}
	c.Subscribe(resource.ListenerType)
	r = c.Recv()
	if got := names(t, r.Resources); !slices.Equal(got, []string{translate.ListenerHTTP}) {
		t.Fatalf("listeners %v", got)
	}
	c.Ack(r)
	h.event(t, resource.ListenerType)
	c.Subscribe(resource.RouteType, translate.RouteHTTP)
	r = c.Recv()
	expectType(t, r.TypeUrl, resource.RouteType)
	c.Ack(r)
	h.event(t, resource.RouteType)
	if n := nodeStatus(t, h.status, "envoy-1", resource.RouteType); !strings.Contains(n.AckedVersion, "rev=10") || n.Cluster != model.DefaultInstance {
		t.Errorf("route status %+v, want rev=10 acknowledged", n)
	}

	// Changing one API's backend path sends the route configuration only.
	in = change(t, in, 1, 5)
	h.cache.Set(model.DefaultInstance, 11, build(t, in))
	r = c.Recv()
	expectType(t, r.TypeUrl, resource.RouteType)
	if !routeMentions(t, r, "/backend/g000-a0001/r5") {
		t.Fatal("the changed route did not arrive")
	}
	c.Ack(r)
	if e := h.event(t, resource.RouteType); e.Revision != 11 {
		t.Fatalf("route ACK of revision %d, want 11", e.Revision)
	}

	// A NACK is recorded and the rejected version is not sent again.
	in = change(t, in, 1, 6)
	h.cache.Set(model.DefaultInstance, 12, build(t, in))
	r = c.Recv()
	expectType(t, r.TypeUrl, resource.RouteType)
	c.Nack(r, "route rejected by test")
	e := h.event(t, resource.RouteType)
	if !e.Nack || e.Revision != 12 || e.Error != "route rejected by test" {
		t.Fatalf("NACK event %+v", e)
	}
	n := nodeStatus(t, h.status, "envoy-1", resource.RouteType)
	if !strings.Contains(n.AckedVersion, "rev=11") || !strings.Contains(n.LastNack, "rev=12") || !strings.Contains(n.LastNack, "route rejected by test") {
		t.Fatalf("status after NACK %+v: want rev=11 running and rev=12 rejected", n)
	}
	// The next response is the next change (a new cluster first), not a
	// resend of the rejected routes.
	in = change(t, in, 10, 1)
	h.cache.Set(model.DefaultInstance, 13, build(t, in))
	r = c.Recv()
	expectType(t, r.TypeUrl, resource.ClusterType)
	if got := names(t, r.Resources); !slices.Contains(got, "backend.http.10.0.0.11.8080") {
		t.Fatalf("clusters %v lack the new backend", got)
	}
	c.Ack(r)
	r = c.Recv()
	expectType(t, r.TypeUrl, resource.RouteType)
	c.Ack(r)
	if e := h.event(t, resource.RouteType); e.Nack || e.Revision != 13 {
		t.Fatalf("route event %+v, want an ACK of revision 13", e)
	}
	if n := nodeStatus(t, h.status, "envoy-1", resource.RouteType); n.LastNack != "" {
		t.Errorf("LastNack %q not cleared by a newer accepted version", n.LastNack)
	}
}

func TestDeltaAckNack(t *testing.T) {
	h := start(t)
	in := newInstance(t, model.DefaultInstance, 3)
	h.cache.Set(model.DefaultInstance, 20, build(t, in))

	c := xdstest.DialDelta(t, h.addr, "envoy-d", model.DefaultInstance)
	c.Subscribe(resource.ClusterType)
	r := c.Recv()
	expectType(t, r.TypeUrl, resource.ClusterType)
	if len(r.Resources) != 5 {
		t.Fatalf("%d clusters, want 5", len(r.Resources))
	}
	c.Ack(r)
	h.event(t, resource.ClusterType)
	c.Subscribe(resource.ListenerType)
	c.Ack(c.Recv())
	h.event(t, resource.ListenerType)
	c.Subscribe(resource.RouteType, translate.RouteHTTP)
	r = c.Recv()
	if got := deltaNames(t, r); !slices.Equal(got, []string{translate.RouteHTTP}) {
		t.Fatalf("routes %v", got)
	}
	c.Ack(r)
	if e := h.event(t, resource.RouteType); e.Nack || e.Revision != 20 || !e.Delta {
		t.Fatalf("route event %+v", e)
	}

	// A new API with a new backend sends exactly the new cluster and the
	// changed route configuration.
	in = change(t, in, 10, 1)
	h.cache.Set(model.DefaultInstance, 21, build(t, in))
	r = c.Recv()
	expectType(t, r.TypeUrl, resource.ClusterType)
	if got := deltaNames(t, r); !slices.Equal(got, []string{"backend.http.10.0.0.11.8080"}) {
		t.Fatalf("delta clusters %v, want only the new one", got)
	}
	c.Ack(r)
	r = c.Recv()
	expectType(t, r.TypeUrl, resource.RouteType)
	c.Ack(r)
	h.event(t, resource.ClusterType)
	h.event(t, resource.RouteType)

	// NACK: recorded, not resent.
	in = change(t, in, 1, 9)
	h.cache.Set(model.DefaultInstance, 22, build(t, in))
	r = c.Recv()
	expectType(t, r.TypeUrl, resource.RouteType)
	c.Nack(r, "delta rejected by test")
	if e := h.event(t, resource.RouteType); !e.Nack || e.Revision != 22 {
		t.Fatalf("NACK event %+v", e)
	}
	if n := nodeStatus(t, h.status, "envoy-d", resource.RouteType); !strings.Contains(n.LastNack, "delta rejected by test") {
		t.Fatalf("status %+v lacks the NACK", n)
	}
	in = change(t, in, 11, 1)
	h.cache.Set(model.DefaultInstance, 23, build(t, in))
	r = c.Recv()
	expectType(t, r.TypeUrl, resource.ClusterType)
	if got := deltaNames(t, r); !slices.Equal(got, []string{"backend.http.10.0.0.12.8080"}) {
		t.Fatalf("delta clusters %v", got)
	}
}

// TestInstancesAndRestart: Envoys are grouped by node.cluster; an Envoy
// that connects before its instance's resources exist (apigw restarting)
// is held, not told that nothing exists; an unknown instance gets the
// default resources.
func TestInstancesAndRestart(t *testing.T) {
	h := start(t)
	early := xdstest.DialSotw(t, h.addr, "envoy-b", "inst-b")
	early.Subscribe(resource.ClusterType)

	a := newInstance(t, "inst-a", 1)
	b := newInstance(t, "inst-b", 3)
	h.cache.Set("inst-a", 1, build(t, a))
	h.cache.Set("inst-b", 2, build(t, b))

	r := early.Recv()
	if got := names(t, r.Resources); len(got) != 5 {
		t.Fatalf("instance b's first response has clusters %v, want its 5", got)
	}
	ca := xdstest.DialSotw(t, h.addr, "envoy-a", "inst-a")
	ca.Subscribe(resource.ClusterType)
	if got := names(t, ca.Recv().Resources); len(got) != 3 {
		t.Fatalf("instance a got clusters %v, want its 3", got)
	}

	h.cache.SetDefault(3, build(t, model.NewInstance("any", nil)))
	u := xdstest.DialSotw(t, h.addr, "envoy-u", "unknown")
	u.Subscribe(resource.ListenerType)
	if got := names(t, u.Recv().Resources); !slices.Equal(got, []string{translate.ListenerHTTP}) {
		t.Fatalf("unknown instance got listeners %v", got)
	}
}
