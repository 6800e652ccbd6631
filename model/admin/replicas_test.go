package admin_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Two replicas on one etcd, many concurrent writers: every write lands once
// and the uniqueness rules hold across replicas.
func TestReplicasNeedNoCoordinationBeyondEtcd(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	var clients []adminv1.AdminServiceClient
	for range 2 {
		// Each replica watches etcd and writes from its own (possibly
		// stale) view; the guarded commit turns staleness into retries.
		st := storetest.Store(t, cli)
		feed := storetest.Watch(t, st)
		<-feed.Ready()
		clients = append(clients, admintest.Serve(t, admin.New(st, feed, live.NewStatus(), storetest.Logger())))
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
	// Each replica lists from its own view of etcd, which follows the
	// other replica's writes through its watch: both come to show every
	// group exactly once (and the built-in DEFAULT group).
	for i, c := range clients {
		var total int32
		for {
			l, err := c.List(ctx, &adminv1.ListRequest{Kind: "group", PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			if total = l.Total; total >= writers+2 || ctx.Err() != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if total != writers+2 {
			t.Errorf("replica %d: %d groups listed, want %d", i, total, writers+2)
		}
	}
}
