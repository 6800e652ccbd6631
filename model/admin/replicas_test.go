package admin_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func serve(t *testing.T, srv adminv1.AdminServiceServer, opts ...grpc.ServerOption) adminv1.AdminServiceClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(opts...)
	adminv1.RegisterAdminServiceServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); gs.Stop() })
	return adminv1.NewAdminServiceClient(conn)
}

// Two replicas on one etcd, many concurrent writers: every write lands once
// and the uniqueness rules hold across replicas.
func TestReplicasNeedNoCoordinationBeyondEtcd(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	var clients []adminv1.AdminServiceClient
	for range 2 {
		// Each replica watches etcd and writes from its own (possibly
		// stale) view; the guarded commit turns staleness into retries.
		st := storetest.Store(t, cli)
		feed := live.NewFeed()
		wctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = st.Watch(wctx, feed); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		<-feed.Ready()
		clients = append(clients, serve(t, admin.New(st, feed, live.NewStatus(), storetest.Logger())))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const writers = 12
	var wg sync.WaitGroup
	errs := make(chan error, writers*2)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[i%2]
			if _, err := c.Create(ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.ApiGroup{Name: fmt.Sprintf("group-%02d", i)})}); err != nil {
				errs <- err
			}
			// Everyone also races for the same name: exactly one wins.
			_, err := c.Create(ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.ApiGroup{Name: "contended"})})
			if err != nil && code(err) != codes.AlreadyExists {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	l, err := clients[0].List(ctx, &adminv1.ListRequest{Kind: "group", PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if l.Total != writers+1 {
		t.Errorf("%d groups stored, want %d", l.Total, writers+1)
	}
}

func TestTokenAuth(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	u, s := admin.TokenAuth("s3cret-token")
	c := serve(t, admin.New(storetest.Store(t, cli), live.NewFeed(), live.NewStatus(), storetest.Logger()),
		grpc.ChainUnaryInterceptor(u), grpc.ChainStreamInterceptor(s))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := &adminv1.ListRequest{Kind: "group"}
	if _, err := c.List(ctx, req); code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v", err)
	}
	bad := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer nope")
	if _, err := c.List(bad, req); code(err) != codes.Unauthenticated {
		t.Errorf("wrong token: %v", err)
	}
	good := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer s3cret-token")
	if _, err := c.List(good, req); err != nil {
		t.Errorf("right token: %v", err)
	}
}
