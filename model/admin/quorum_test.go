package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/admin/storehdr"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// When etcd loses quorum, writes fail fast with UNAVAILABLE naming etcd and
// its quorum, within the caller's deadline; apigw_store_connected drops to
// 0; reads are served from the watched view and say so in their headers;
// the snapshot the data plane serves stays.
func TestWritesWithoutEtcdQuorumAreUnavailable(t *testing.T) {
	members := storetest.Cluster(t, 3)
	cli := storetest.Client(t, members[0].Endpoint())
	sealer, _ := store.NewSealer(storetest.Key())
	reg := prometheus.NewRegistry()
	st := store.New(cli, store.NewCodec(sealer), storetest.Logger(), reg)
	feed := storetest.Watch(t, st)
	c := admintest.Serve(t, admin.New(st, feed, live.NewStatus(), storetest.Logger()))
	ctx, cancelCtx := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelCtx()

	if _, err := c.Create(ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.ApiGroup{Name: "pets"})}); err != nil {
		t.Fatal(err)
	}
	before := waitForRevision(t, ctx, feed, 0)
	for before.Instance("default").Count(model.KindGroup) == 0 {
		before = <-feed.Subscribe(ctx)
	}
	if v := gauge(t, reg, "apigw_store_connected"); v != 1 {
		t.Fatalf("apigw_store_connected = %v with a healthy cluster", v)
	}

	members[1].Close()
	members[2].Close()

	for i, deadline := range []time.Duration{4 * time.Second, 1500 * time.Millisecond} {
		cctx, ccancel := context.WithTimeout(ctx, deadline)
		start := time.Now()
		_, err := c.Create(cctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.Environment{Name: "TEST"})})
		took := time.Since(start)
		ccancel()
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("write %d without quorum: %v after %v, want UNAVAILABLE", i, err, took)
		}
		if msg := status.Convert(err).Message(); !strings.Contains(msg, "etcd") || !strings.Contains(msg, "quorum") {
			t.Fatalf("message does not name etcd and its quorum: %s", msg)
		}
		if took >= deadline {
			t.Fatalf("answered after %v, beyond the caller's deadline of %v", took, deadline)
		}
		t.Logf("write %d: UNAVAILABLE after %v: %s", i, took, status.Convert(err).Message())
	}

	waitGauge(t, reg, "apigw_store_connected", 0)
	var header metadata.MD
	got, err := c.Get(ctx, &adminv1.GetRequest{Kind: model.KindGroup, Id: "pets"}, grpc.Header(&header))
	if err != nil {
		t.Fatalf("read without quorum: %v", err)
	}
	if got.Resource.GetGroup().GetName() != "pets" {
		t.Fatalf("read: %v", got)
	}
	if h := header.Get(storehdr.Connected); len(h) != 1 || h[0] != "false" || len(header.Get(storehdr.Since)) != 1 {
		t.Fatalf("read headers do not say the answer comes from a view that cannot reach etcd: %v", header)
	}
	if _, err := c.GetStatus(ctx, &adminv1.GetStatusRequest{}); err != nil {
		t.Fatalf("status without quorum: %v", err)
	}
	if cur := feed.Current(); cur.Revision < before.Revision || cur.Instance("default").StoredCount(model.KindGroup) != 1 {
		t.Fatal("the served snapshot was lost")
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func waitGauge(t *testing.T, reg *prometheus.Registry, name string, want float64) {
	t.Helper()
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if gauge(t, reg, name) == want {
			return
		}
	}
	t.Fatalf("%s did not become %v", name, want)
}
