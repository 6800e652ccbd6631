package xdssync_test

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/ads"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdscache"
	"github.com/apigw/apigw/xds/xdssync"
	"github.com/apigw/apigw/xds/xdstest"
)

// plane is a running control plane without etcd: feed → controller →
// cache → ADS server on 127.0.0.1:0.
type plane struct {
	addr   string
	feed   *live.Feed
	status *live.Status
	synced chan int64
}

func startPlane(t *testing.T, feed *live.Feed) *plane {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.DiscardHandler)
	p := &plane{feed: feed, status: live.NewStatus(), synced: make(chan int64, 64)}
	cache := xdscache.New(log)
	srv := ads.New(ctx, cache, p.status, log, ads.Options{})
	g := grpc.NewServer(ads.GRPCOptions()...)
	srv.Register(g)
	p.addr = testutil.ServeGRPC(t, g)
	ctrl := xdssync.New(feed, cache, p.status, log, xdssync.Options{OnSync: func(rev int64) { p.synced <- rev }})
	done := make(chan struct{})
	go func() { _ = ctrl.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

func (p *plane) waitSynced(t *testing.T, rev int64) {
	t.Helper()
	for {
		select {
		case r := <-p.synced:
			if r >= rev {
				return
			}
		case <-time.After(xdstest.Wait):
			t.Fatalf("revision %d was never installed", rev)
		}
	}
}

func snapshotOf(rev int64, ins ...*model.Instance) *live.Snapshot {
	m := map[string]*model.Instance{}
	for _, in := range ins {
		m[in.Name] = in
	}
	return live.NewSnapshot(rev, m, nil)
}

func routeNames(t *testing.T, r *discoveryv3.DiscoveryResponse) []string {
	t.Helper()
	var out []string
	for _, a := range r.Resources {
		rc := &routev3.RouteConfiguration{}
		if err := a.UnmarshalTo(rc); err != nil {
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

// TestPublishReachesEnvoy: a snapshot fed to the controller reaches a
// connected ADS client within tens of milliseconds; an unpublished API's
// route goes; a broken API is reported and the rest is served.
func TestPublishReachesEnvoy(t *testing.T) {
	feed := live.NewFeed()
	in, err := xdstest.Instance(model.DefaultInstance, xdstest.Objects(2, 5))
	if err != nil {
		t.Fatal(err)
	}
	feed.Publish(snapshotOf(1, in))
	p := startPlane(t, feed)
	p.waitSynced(t, 1)

	c := xdstest.DialSotw(t, p.addr, "envoy-1", model.DefaultInstance)
	c.Subscribe(resource.ClusterType)
	c.Ack(c.Recv())
	c.Subscribe(resource.ListenerType)
	c.Ack(c.Recv())
	// Scoped HTTP routing: one scope per host, one RouteConfiguration
	// per group.
	c.Subscribe(resource.ScopedRouteType)
	r := c.Recv()
	if got := len(r.Resources); got != 4 {
		t.Fatalf("%d routing scopes, want 4 (a domain and a debug domain per group)", got)
	}
	c.Ack(r)
	c.Subscribe(resource.RouteType, translate.RouteHTTPGroup("g000"), translate.RouteHTTPGroup("g001"))
	r = c.Recv()
	if got := routeNames(t, r); !slices.Contains(got, "api.g001-a0003.RELEASE") {
		t.Fatalf("routes %v lack a published API", got)
	}
	c.Ack(r)

	// Publish a change and measure until the route arrives.
	next, err := xdstest.Change(in, "g001", 3, 42)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	feed.Publish(snapshotOf(2, next))
	r = c.Recv()
	latency := time.Since(start)
	if r.TypeUrl != resource.RouteType || len(r.Resources) != 1 || !strings.Contains(string(r.Resources[0].Value), "/backend/g001-a0003/r42") {
		t.Fatalf("got %s with %d resources, want the changed group's routes only", r.TypeUrl, len(r.Resources))
	}
	t.Logf("publish → route received: %v", latency)
	if latency > time.Second {
		t.Errorf("propagation took %v", latency)
	}
	c.Ack(r)

	// Unpublish: the route goes. Break another API: it is left out and
	// reported, the others stay.
	gone := next.With(nil, [][2]string{{model.KindRelease, model.ReleaseID("g001-a0003", model.ReleaseEnvID)}})
	bad := proto.Clone(gone.Served("g000-a0001", model.ReleaseEnvID)).(*apigwv1.Publication)
	bad.Api.BackendType = model.BackendFunction
	gone = gone.With([]proto.Message{bad}, nil)
	feed.Publish(snapshotOf(3, gone))
	r = c.Recv()
	got := routeNames(t, r)
	if slices.Contains(got, "api.g001-a0003.RELEASE") || slices.Contains(got, "api.g000-a0001.RELEASE") {
		t.Fatalf("routes %v still contain the unpublished or broken API", got)
	}
	if !slices.Contains(got, "api.g000-a0002.RELEASE") {
		t.Fatalf("routes %v lost a healthy API", got)
	}
	p.waitSynced(t, 3)
	ps := p.status.APIProblems(model.DefaultInstance)
	if len(ps) != 1 || ps[0].APIID != "g000-a0001" || !strings.Contains(ps[0].Reason, "function") {
		t.Fatalf("problems %+v", ps)
	}
}

// TestDebounce: a burst of snapshots is installed far fewer times than it
// has snapshots, ending at its last revision.
func TestDebounce(t *testing.T) {
	feed := live.NewFeed()
	in := model.NewInstance(model.DefaultInstance, nil)
	feed.Publish(snapshotOf(1, in))
	p := startPlane(t, feed)
	p.waitSynced(t, 1)
	const last = 40
	for rev := int64(2); rev <= last; rev++ {
		feed.Publish(snapshotOf(rev, in))
		runtime.Gosched()
	}
	installs := 0
	for done := false; !done; {
		select {
		case r := <-p.synced:
			installs++
			done = r == last
		case <-time.After(xdstest.Wait):
			t.Fatalf("revision %d was never installed", last)
		}
	}
	if installs > last/4 {
		t.Errorf("%d installs for a burst of %d snapshots", installs, last-1)
	}
}
