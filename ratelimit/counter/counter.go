// Package counter counts rate-limit hits in time windows. Counter is the
// interface the rate-limit service needs; Memory (the default, one
// process) and Redis (shared by replicas) implement it with the same
// window arithmetic (window.go), so they give the same answers.
package counter

import (
	"context"
	"errors"
	"time"
)

// Counter admits hits against several counters at once.
type Counter interface {
	// Take admits the items' hits at instant now, all or nothing: if every
	// item has room (count + hits <= limit), every item's count grows by
	// its hits; otherwise no count changes. out[i] (len(out) >= len(items))
	// receives item i's state. An error means the backend could not
	// answer; out is then undefined. Take keeps nothing of items once it
	// returns (the service passes keys that point into reused memory).
	Take(ctx context.Context, now time.Time, items []Item, out []Result) error
}

// Item is one counter touched by a request.
type Item struct {
	// Key identifies the counter. It must not contain the limit, so that
	// editing a limit keeps the count. Redis uses the first {...} of the
	// key as its hash tag: items of one Take that share a tag are admitted
	// atomically in one script call.
	Key string
	// Limit is the number of hits the window admits.
	Limit uint64
	// Hits is how many hits this request adds (at least 1).
	Hits   uint64
	Window Window
}

// Result is an item's state after Take.
type Result struct {
	// Over says the item had no room for its hits.
	Over bool
	// Count is the number of hits in the window, including this request's
	// when it was admitted.
	Count uint64
	// Reset is the time until the count next drops (sliding windows) or
	// the window ends (fixed windows).
	Reset time.Duration
}

// Remaining returns how many more hits the window admits now.
func (r Result) Remaining(limit uint64) uint64 {
	if r.Count >= limit {
		return 0
	}
	return limit - r.Count
}

// ErrInvalidWindow is returned for items whose window cannot be counted.
var ErrInvalidWindow = errors.New("counter: window size must be positive and at least 1ms per bucket")

func validate(items []Item, out []Result) error {
	if len(out) < len(items) {
		return errors.New("counter: result slice shorter than items")
	}
	for i := range items {
		if !items[i].Window.valid() {
			return ErrInvalidWindow
		}
	}
	return nil
}
