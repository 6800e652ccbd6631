package snapshot_test

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"

	"github.com/apigw/apigw/xds/snapshot"
	"github.com/apigw/apigw/xds/translate"
)

func cluster(name string, eds bool) *clusterv3.Cluster {
	c := &clusterv3.Cluster{Name: name}
	if eds {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
	}
	return c
}

// sotwWatch is one SotW watch on the cache, as the server keeps it.
type sotwWatch struct {
	t   *testing.T
	c   *snapshot.Cache
	req *discoveryv3.DiscoveryRequest
	sub stream.Subscription
	ch  chan cachev3.Response
}

func newWatch(t *testing.T, c *snapshot.Cache, typeURL string, names ...string) *sotwWatch {
	w := &sotwWatch{t: t, c: c, sub: stream.NewSotwSubscription(names, true), ch: make(chan cachev3.Response, 8),
		req: &discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: names, Node: &corev3.Node{Id: "n", Cluster: "inst"}}}
	w.open()
	return w
}

func (w *sotwWatch) open() {
	if _, err := w.c.CreateWatch(w.req, w.sub, w.ch); err != nil {
		w.t.Fatal(err)
	}
}

// next returns the names of the resources in the next response and re-opens the
// watch as the server does after sending it.
func (w *sotwWatch) next() ([]string, string) {
	w.t.Helper()
	select {
	case r := <-w.ch:
		w.sub.SetReturnedResources(r.GetReturnedResources())
		dr, err := r.GetDiscoveryResponse()
		if err != nil {
			w.t.Fatal(err)
		}
		var names []string
		for _, a := range dr.Resources {
			m, err := a.UnmarshalNew()
			if err != nil {
				w.t.Fatal(err)
			}
			names = append(names, cachev3.GetResourceName(m))
		}
		slices.Sort(names)
		w.req = &discoveryv3.DiscoveryRequest{TypeUrl: w.req.TypeUrl, ResourceNames: w.req.ResourceNames, Node: w.req.Node, VersionInfo: r.GetResponseVersion()}
		w.open()
		return names, r.GetResponseVersion()
	case <-time.After(5 * time.Second):
		w.t.Fatal("no response")
	}
	return nil, ""
}

// none asserts that no response is pending.
func (w *sotwWatch) none() {
	w.t.Helper()
	select {
	case r := <-w.ch:
		w.t.Fatalf("unexpected response %v", r.GetReturnedResources())
	default:
	}
}

func TestDeferredDeleteAndEndpointResend(t *testing.T) {
	c := snapshot.New(slog.New(slog.DiscardHandler), snapshot.WithVersionPrefix("v."))
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: "ch"}
	c.Set("inst", 1, &translate.Resources{Clusters: []*clusterv3.Cluster{cluster("a", false), cluster("ch", true)}, Endpoints: []*endpointv3.ClusterLoadAssignment{cla}})

	cds := newWatch(t, c, resource.ClusterType)
	eds := newWatch(t, c, resource.EndpointType, "ch")
	names, v := cds.next()
	if !slices.Equal(names, []string{"a", "ch"}) {
		t.Fatalf("clusters %v", names)
	}
	if rev, ok := c.Revision("inst", resource.ClusterType, v); !ok || rev != 1 {
		t.Fatalf("version %s maps to %d, %v; want revision 1", v, rev, ok)
	}
	eds.next()

	// An equal translation changes nothing.
	c.Set("inst", 2, &translate.Resources{Clusters: []*clusterv3.Cluster{cluster("a", false), cluster("ch", true)}, Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "ch"}}})
	cds.none()
	eds.none()
	if rev, _ := c.Revision("inst", resource.ClusterType, v); rev != 2 {
		t.Fatalf("unchanged clusters still carry revision %d, want 2", rev)
	}

	// A changed EDS cluster gets its (unchanged) endpoints resent; a
	// removed cluster stays until the next update.
	changed := cluster("ch", true)
	changed.LbPolicy = clusterv3.Cluster_LEAST_REQUEST
	c.Set("inst", 3, &translate.Resources{Clusters: []*clusterv3.Cluster{changed}, Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "ch"}}})
	if names, _ := cds.next(); !slices.Equal(names, []string{"a", "ch"}) {
		t.Fatalf("clusters %v: a removed cluster must stay for one update", names)
	}
	if names, _ := eds.next(); !slices.Equal(names, []string{"ch"}) {
		t.Fatalf("endpoints %v not resent", names)
	}
	c.Set("inst", 4, &translate.Resources{Clusters: []*clusterv3.Cluster{changed}, Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "ch"}}})
	if names, _ := cds.next(); !slices.Equal(names, []string{"ch"}) {
		t.Fatalf("clusters %v: the removed cluster must go on the next update", names)
	}
}

// TestScopesAreFullState: Envoy drops the routing scopes a SotW SRDS
// response leaves out, so any change resends them all.
func TestScopesAreFullState(t *testing.T) {
	c := snapshot.New(slog.New(slog.DiscardHandler))
	scope := func(host string) *routev3.ScopedRouteConfiguration {
		return &routev3.ScopedRouteConfiguration{Name: host, RouteConfigurationName: "rc"}
	}
	c.Set("inst", 1, &translate.Resources{Scopes: []*routev3.ScopedRouteConfiguration{scope("a"), scope("b"), scope("c")}})
	w := newWatch(t, c, resource.ScopedRouteType)
	if names, _ := w.next(); !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Fatalf("scopes %v", names)
	}
	changed := scope("b")
	changed.RouteConfigurationName = "rc2"
	c.Set("inst", 2, &translate.Resources{Scopes: []*routev3.ScopedRouteConfiguration{scope("a"), changed}})
	if names, _ := w.next(); !slices.Equal(names, []string{"a", "b"}) {
		t.Fatalf("scopes %v, want every remaining scope", names)
	}
}
