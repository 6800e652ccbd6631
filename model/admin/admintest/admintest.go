// Package admintest runs a real admin gRPC server over an embedded etcd for
// tests of admin API clients (apigctl). Everything stops at test cleanup.
package admintest

import (
	"context"
	"net"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// Server is a running admin API.
type Server struct {
	// Addr is the loopback host:port the admin API listens on.
	Addr string
	// Client is connected to Addr.
	Client adminv1.AdminServiceClient
	// Status is the component status GetStatus reports; tests may record
	// nodes and API problems in it.
	Status *live.Status
	// Feed carries the snapshots the store watch publishes.
	Feed *live.Feed
	// Etcd is a client of the embedded etcd, for writes around the admin
	// API; EtcdServer is that etcd (Close it to take it away).
	Etcd       *clientv3.Client
	EtcdServer *store.Embedded
}

// Start starts embedded etcd, the store watch and the admin API on
// 127.0.0.1:0.
func Start(t testing.TB, opts ...admin.Option) *Server {
	t.Helper()
	server, etcd := storetest.Etcd(t, "")
	st := storetest.Store(t, etcd)
	feed := live.NewFeed()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = st.Watch(ctx, feed); close(done) }()
	status := live.NewStatus()
	srv := admin.New(st, feed, status, storetest.Logger(), opts...)
	st.OnDirectWrite(srv.RecordDirectWrite)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		gs.Stop()
		cancel()
		<-done
	})
	return &Server{Addr: lis.Addr().String(), Client: adminv1.NewAdminServiceClient(conn), Status: status, Feed: feed, Etcd: etcd, EtcdServer: server}
}

// Context returns a context for test calls that ends at cleanup or after a
// minute.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
