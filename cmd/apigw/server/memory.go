package server

import (
	"context"
	"time"

	"github.com/apigw/apigw/model/live"
)

// settleMemory calls free once the definitions have stopped changing for
// quiet after a change. Applying a batch of changes (a publishing
// session, an apply) grows the heap to up to twice the live data, which
// the Go runtime otherwise keeps for a long time; free is
// debug.FreeOSMemory, which collects and returns it to the system.
func settleMemory(ctx context.Context, feed *live.Feed, quiet time.Duration, free func()) {
	snaps := feed.Subscribe(ctx)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-snaps:
			if !ok {
				return
			}
			timer.Reset(quiet)
		case <-timer.C:
			free()
		}
	}
}
