// Package admintest runs a real admin gRPC server over an embedded etcd for
// tests of admin API clients (apigctl). Everything stops at test cleanup.
package admintest

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"

	"github.com/apigw/apigw/internal/testutil"
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
	return StartWith(t, nil, opts...)
}

// StartWith is Start with more services on the admin API's server:
// register is called with the server and the feed before it serves.
func StartWith(t testing.TB, register func(*grpc.Server, *live.Feed), opts ...admin.Option) *Server {
	t.Helper()
	server, etcd := storetest.Etcd(t, "")
	st := storetest.Store(t, etcd)
	feed := storetest.Watch(t, st)
	status := live.NewStatus()
	srv := admin.New(st, feed, status, storetest.Logger(), opts...)
	st.OnDirectWrite(srv.RecordDirectWrite)
	gs := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(gs, srv)
	if register != nil {
		register(gs, feed)
	}
	addr := testutil.ServeGRPC(t, gs)
	client := adminv1.NewAdminServiceClient(testutil.DialGRPC(t, addr))
	return &Server{Addr: addr, Client: client, Status: status, Feed: feed, Etcd: etcd, EtcdServer: server}
}

// Serve serves srv with the server options on 127.0.0.1:0 until test
// cleanup and returns a client connected to it.
func Serve(t testing.TB, srv adminv1.AdminServiceServer, opts ...grpc.ServerOption) adminv1.AdminServiceClient {
	t.Helper()
	gs := grpc.NewServer(opts...)
	adminv1.RegisterAdminServiceServer(gs, srv)
	return adminv1.NewAdminServiceClient(testutil.ServeAndDialGRPC(t, gs))
}

// Context returns a context for test calls that ends at cleanup or after a
// minute.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
