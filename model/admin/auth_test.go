package admin_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store/storetest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// Only the exact token passes (compared in constant time with
// subtle.ConstantTimeCompare): no token, a wrong one, a prefix, an
// extension, a case change or an empty value is refused.
func TestTokenAuth(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	u, s := admin.TokenAuth("s3cret-token")
	c := admintest.Serve(t, admin.New(storetest.Store(t, cli), live.NewFeed(), live.NewStatus(), storetest.Logger()),
		grpc.ChainUnaryInterceptor(u), grpc.ChainStreamInterceptor(s))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := &adminv1.ListRequest{Kind: "group"}
	if _, err := c.List(ctx, req); code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v", err)
	}
	for _, v := range []string{"Bearer nope", "Bearer s3cret", "Bearer s3cret-token2", "Bearer S3CRET-TOKEN", "Bearer ", "Bearer", "s3cret-token", "Basic s3cret-token", "Bearer  s3cret-token"} {
		bad := metadata.AppendToOutgoingContext(ctx, "authorization", v)
		if _, err := c.List(bad, req); code(err) != codes.Unauthenticated {
			t.Errorf("authorization %q: %v", v, err)
		}
	}
	good := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer s3cret-token")
	if _, err := c.List(good, req); err != nil {
		t.Errorf("right token: %v", err)
	}
}
