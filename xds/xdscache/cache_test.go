package xdscache_test

import (
	"log/slog"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdscache"
)

func cluster(name string, eds bool) *clusterv3.Cluster {
	c := &clusterv3.Cluster{Name: name}
	if eds {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
	}
	return c
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func names(v *xdscache.Version) []string { return slices.Clone(v.Names()) }

func TestDeferredDeleteAndEndpointResend(t *testing.T) {
	c := xdscache.New(quiet(), xdscache.WithVersionPrefix("v."))
	c.Set("inst", 1, &translate.Resources{Clusters: []*clusterv3.Cluster{cluster("a", false), cluster("ch", true)}, Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "ch"}}})
	ic := c.Instance("inst")
	cds, eds := ic.Current(resource.ClusterType), ic.Current(resource.EndpointType)
	if !slices.Equal(names(cds), []string{"a", "ch"}) || cds.ID != "v.1" {
		t.Fatalf("clusters %v at %s", names(cds), cds.ID)
	}
	if rev, ok := c.Revision("inst", resource.ClusterType, cds.ID); !ok || rev != 1 {
		t.Fatalf("version %s maps to %d, %v; want revision 1", cds.ID, rev, ok)
	}
	// Resources sent are encoded; an equal translation (new messages,
	// same content) changes nothing, and the version stands for the new
	// revision.
	for _, r := range cds.Resources {
		if _, err := r.Body(); err != nil {
			t.Fatal(err)
		}
	}
	edsRes := eds.Resources["ch"]
	c.Set("inst", 2, &translate.Resources{Clusters: []*clusterv3.Cluster{cluster("a", false), cluster("ch", true)}, Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "ch"}}})
	if ic.Current(resource.ClusterType) != cds {
		t.Fatal("an equal translation installed a new cluster version")
	}
	if rev, _ := c.Revision("inst", resource.ClusterType, cds.ID); rev != 2 {
		t.Fatalf("unchanged clusters still carry revision %d, want 2", rev)
	}

	// A changed EDS cluster gets its (unchanged) endpoints resent; a
	// removed cluster stays until the next update.
	changed := cluster("ch", true)
	changed.LbPolicy = clusterv3.Cluster_LEAST_REQUEST
	c.Set("inst", 3, &translate.Resources{Clusters: []*clusterv3.Cluster{changed}, Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "ch"}}})
	cds3, eds3 := ic.Current(resource.ClusterType), ic.Current(resource.EndpointType)
	if !slices.Equal(names(cds3), []string{"a", "ch"}) || cds3.ID == cds.ID {
		t.Fatalf("clusters %v at %s: a removed cluster must stay for one update", names(cds3), cds3.ID)
	}
	if cds3.Resources["a"] != cds.Resources["a"] {
		t.Fatal("the unchanged cluster lost its identity")
	}
	if eds3.Resources["ch"].Seq == edsRes.Seq {
		t.Fatal("the endpoints of the changed cluster were not resent")
	}
	c.Set("inst", 4, &translate.Resources{Clusters: []*clusterv3.Cluster{changed}, Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "ch"}}})
	if got := names(ic.Current(resource.ClusterType)); !slices.Equal(got, []string{"ch"}) {
		t.Fatalf("clusters %v: the removed cluster must go on the next update", got)
	}
}

// TestHeldUntilReady: an instance without resources answers nothing
// (its Envoys wait) until its first Set, or the fallback for instances
// without definitions; watchers are told.
func TestHeldUntilReady(t *testing.T) {
	c := xdscache.New(quiet())
	ic := c.Instance("early")
	wake := make(chan struct{}, 1)
	defer ic.Watch(wake)()
	if ic.Current(resource.ListenerType) != nil {
		t.Fatal("an instance without resources is not held")
	}
	c.SetDefault(1, &translate.Resources{Listeners: []*listenerv3.Listener{{Name: "fallback"}}})
	select {
	case <-wake:
	default:
		t.Fatal("the watcher was not told")
	}
	if got := names(ic.Current(resource.ListenerType)); !slices.Equal(got, []string{"fallback"}) {
		t.Fatalf("listeners %v, want the fallback", got)
	}
	c.Set("early", 2, &translate.Resources{Listeners: []*listenerv3.Listener{{Name: "own"}}})
	<-wake
	if got := names(ic.Current(resource.ListenerType)); !slices.Equal(got, []string{"own"}) {
		t.Fatalf("listeners %v, want its own", got)
	}
	// A later fallback leaves defined instances alone; new ones start
	// with it.
	c.SetDefault(3, &translate.Resources{Listeners: []*listenerv3.Listener{{Name: "fallback2"}}})
	if got := names(ic.Current(resource.ListenerType)); !slices.Equal(got, []string{"own"}) {
		t.Fatalf("listeners %v after a new fallback", got)
	}
	if got := names(c.Instance("late").Current(resource.ListenerType)); !slices.Equal(got, []string{"fallback2"}) {
		t.Fatalf("a new instance starts with %v", got)
	}
}

// TestSingleListenersFeed: in scoped routing the single-RDS listeners
// are their own feed; otherwise that feed is the listeners.
func TestSingleListenersFeed(t *testing.T) {
	c := xdscache.New(quiet())
	c.Set("scoped", 1, &translate.Resources{Listeners: []*listenerv3.Listener{{Name: "l", StatPrefix: "scoped"}}, SingleListeners: []*listenerv3.Listener{{Name: "l", StatPrefix: "single"}}})
	c.Set("single", 1, &translate.Resources{Listeners: []*listenerv3.Listener{{Name: "l", StatPrefix: "single"}}})
	sc, si := c.Instance("scoped"), c.Instance("single")
	main, single := sc.Current(resource.ListenerType), sc.Current(xdscache.FeedSingleListeners)
	if main.Resources["l"].Msg.(*listenerv3.Listener).StatPrefix != "scoped" || single.Resources["l"].Msg.(*listenerv3.Listener).StatPrefix != "single" || main.ID == single.ID {
		t.Fatalf("scoped instance: %s %v / %s %v", main.ID, main.Resources["l"].Msg, single.ID, single.Resources["l"].Msg)
	}
	if rev, ok := c.Revision("scoped", resource.ListenerType, single.ID); !ok || rev != 1 {
		t.Fatalf("the single listeners' version %s is unknown (%d, %v)", single.ID, rev, ok)
	}
	if si.Current(xdscache.FeedSingleListeners) != si.Current(resource.ListenerType) {
		t.Fatal("without a single variant, the single feed is not the listeners")
	}
}

// TestMemoShared: a response is built once per version and key.
func TestMemoShared(t *testing.T) {
	c := xdscache.New(quiet())
	c.Set("inst", 1, &translate.Resources{Clusters: []*clusterv3.Cluster{cluster("a", false)}})
	v := c.Instance("inst").Current(resource.ClusterType)
	builds := 0
	build := func() (any, error) { builds++; return builds, nil }
	a, sa, _ := v.Memo("k", build)
	b, sb, _ := v.Memo("k", build)
	if a != b || builds != 1 || !sa || !sb {
		t.Fatalf("memo built %d times (%v, %v)", builds, a, b)
	}
}
