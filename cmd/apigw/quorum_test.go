package main_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// With an external etcd cluster that loses quorum, apigw stays up: admin
// writes end with UNAVAILABLE naming etcd and its quorum within the
// caller's deadline, /metrics shows apigw_store_connected 0, and xDS,
// ext_authz and the RLS keep serving the last good configuration.
func TestBinaryKeepsServingWithoutEtcdQuorum(t *testing.T) {
	bin := binary(t)
	members := storetest.Cluster(t, 3)
	p := start(t, bin, "--etcd-endpoints", members[0].Endpoint(),
		"--secret-key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	p.WaitReady(t, 20*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := admin(t, p)
	pub := publishPets(ctx, t, c)
	checkXDS(t, p.XDS, "/pets") // published and translated before the loss

	members[1].Close()
	members[2].Close()

	wctx, wcancel := context.WithTimeout(ctx, 4*time.Second)
	start := time.Now()
	_, err := c.Create(wctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.Environment{Name: "TEST"})})
	wcancel()
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "quorum") || time.Since(start) >= 4*time.Second {
		t.Fatalf("write without quorum: %v after %v\n%s", err, time.Since(start), p.Out.String())
	}
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if v, ok := p.Metrics(t)["apigw_store_connected"]; ok && v == 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("apigw_store_connected did not drop to 0\n%s", p.Out.String())
		}
	}

	route, ctxExt := checkXDS(t, p.XDS, "/pets")
	checkExtAuthz(t, p.ExtAuth, ctxExt, pub)
	checkRateLimit(t, p.RateLimit, route)
	if p.Exited() {
		t.Fatalf("apigw exited\n%s", p.Out.String())
	}
}
