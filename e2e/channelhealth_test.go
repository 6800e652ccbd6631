package e2e

import (
	"context"
	"testing"
	"time"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// checkChannelHealth asserts what GetChannelHealth reports for the pet
// store's channel after the scenarios (whose access logs were flushed):
// both configured members were called, none failed, both are healthy.
func checkChannelHealth(t *testing.T, g *apigw) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var resp *adminv1.GetChannelHealthResponse
	for {
		var err error
		resp, err = g.adminClient().GetChannelHealth(ctx, &adminv1.GetChannelHealthRequest{Channel: "petstore_pool"})
		if err != nil {
			t.Fatalf("GetChannelHealth: %v", err)
		}
		if healthyMembers(resp) == 2 || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp.Window != "5m" || len(resp.Members) != 2 || healthyMembers(resp) != 2 {
		t.Fatalf("channel health: %v", resp)
	}
}

func healthyMembers(resp *adminv1.GetChannelHealthResponse) int {
	n := 0
	for _, m := range resp.Members {
		if m.Configured && m.Calls > 0 && m.Failures == 0 && m.State == "healthy" && m.LastCall != nil {
			n++
		}
	}
	return n
}
