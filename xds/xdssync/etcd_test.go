package xdssync_test

import (
	"context"
	"slices"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

// etcdStore starts an embedded etcd and returns a store over it.
func etcdStore(t *testing.T) *store.Store {
	t.Helper()
	_, cli := storetest.Etcd(t, "")
	return storetest.Store(t, cli)
}

func commit(t *testing.T, st *store.Store, ch func(in *model.Instance) *store.Change) int64 {
	t.Helper()
	base, err := st.Load(context.Background(), model.DefaultInstance)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := st.Commit(context.Background(), base, ch(base.Instance))
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// publish writes the publication record and release of an API.
func publish(t *testing.T, st *store.Store, apiID string, n int) int64 {
	t.Helper()
	return commit(t, st, func(in *model.Instance) *store.Change {
		objs, err := xdstest.Publish(in, apiID, n)
		if err != nil {
			t.Fatal(err)
		}
		return &store.Change{Puts: objs}
	})
}

func deltaRoutes(t *testing.T, r *discoveryv3.DeltaDiscoveryResponse) []string {
	t.Helper()
	var out []string
	for _, res := range r.Resources {
		rc := &routev3.RouteConfiguration{}
		if err := res.Resource.UnmarshalTo(rc); err != nil {
			t.Fatal(err)
		}
		for _, vh := range rc.VirtualHosts {
			for _, rt := range vh.Routes {
				out = append(out, rt.Name)
			}
		}
	}
	return out
}

// TestEtcdToEnvoy runs the whole path: definitions written to an embedded
// etcd, watched into the feed, translated and served over ADS to a SotW
// and a delta client: publish → the route arrives; unpublish → it goes.
func TestEtcdToEnvoy(t *testing.T) {
	st := etcdStore(t)
	feed := storetest.Watch(t, st)
	p := startPlane(t, feed)

	group := &apigwv1.ApiGroup{Id: "g000", Name: "group_g000", UrlDomains: []*apigwv1.UrlDomain{{Domain: "g000.example.com"}}}
	rev := commit(t, st, func(*model.Instance) *store.Change {
		return &store.Change{Puts: []proto.Message{group, xdstest.API("g000", 1, 0), xdstest.API("g000", 2, 0)}}
	})
	p.waitSynced(t, rev)

	sotw := xdstest.DialSotw(t, p.addr, "envoy-sotw", model.DefaultInstance)
	sotw.Subscribe(resource.ListenerType)
	sotw.Ack(sotw.Recv())
	sotw.Subscribe(resource.ScopedRouteType)
	sotw.Ack(sotw.Recv())
	sotw.Subscribe(resource.RouteType, translate.RouteHTTPGroup("g000"))
	r := sotw.Recv()
	if got := routeNames(t, r); slices.Contains(got, "api.g000-a0001.RELEASE") {
		t.Fatalf("unpublished API routed: %v", got)
	}
	sotw.Ack(r)
	delta := xdstest.DialDelta(t, p.addr, "envoy-delta", model.DefaultInstance)
	delta.Subscribe(resource.RouteType, translate.RouteHTTPGroup("g000"))
	dr := delta.Recv()
	delta.Ack(dr)

	// Publish: the route arrives on both streams.
	publish(t, st, "g000-a0001", 1)
	r = sotw.Recv()
	if got := routeNames(t, r); !slices.Contains(got, "api.g000-a0001.RELEASE") {
		t.Fatalf("SotW routes %v lack the published API", got)
	}
	sotw.Ack(r)
	dr = delta.Recv()
	if got := deltaRoutes(t, dr); !slices.Contains(got, "api.g000-a0001.RELEASE") {
		t.Fatalf("delta routes %v lack the published API", got)
	}
	delta.Ack(dr)

	// Unpublish: the route goes.
	commit(t, st, func(*model.Instance) *store.Change {
		return &store.Change{Deletes: []store.ObjectID{{Kind: model.KindByName(model.KindRelease), ID: model.ReleaseID("g000-a0001", model.ReleaseEnvID)}}}
	})
	r = sotw.Recv()
	if got := routeNames(t, r); slices.Contains(got, "api.g000-a0001.RELEASE") {
		t.Fatalf("SotW still routes the unpublished API: %v", got)
	}
	dr = delta.Recv()
	if got := deltaRoutes(t, dr); slices.Contains(got, "api.g000-a0001.RELEASE") {
		t.Fatalf("delta still routes the unpublished API: %v", got)
	}
}
