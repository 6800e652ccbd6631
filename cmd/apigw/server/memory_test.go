package server

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigw/apigw/model/live"
)

// TestSettleMemory: memory is returned once per burst of changes, after
// they stop.
func TestSettleMemory(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed := live.NewFeed()
	var frees atomic.Int32
	go settleMemory(ctx, feed, 100*time.Millisecond, func() { frees.Add(1) })
	for i := range 10 {
		feed.Publish(live.NewSnapshot(int64(i+1), nil, nil))
		time.Sleep(20 * time.Millisecond)
	}
	if n := frees.Load(); n != 0 {
		t.Fatalf("%d frees during the burst", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for frees.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := frees.Load(); n != 1 {
		t.Fatalf("%d frees after the burst, want 1", n)
	}
}
