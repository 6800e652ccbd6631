package ratelimit

import (
	"context"
	"errors"
	"time"

	"github.com/apigw/apigw/ratelimit/counter"
)

// WithDryRun makes the service answer as it would without counting the
// call: the counters are read (counter.Peeker), never changed, so that a
// request can be explained without using up its client's quota. The
// counter must implement counter.Peeker (Memory and Redis do).
func WithDryRun() Option { return func(s *Service) { s.dryRun = true } }

var errNoPeek = errors.New("ratelimit: the counter cannot be read without counting (no counter.Peeker)")

// count takes the items' hits, or only reads the counters in a dry run.
func (s *Service) count(ctx context.Context, now time.Time, items []counter.Item, out []counter.Result) error {
	if !s.dryRun {
		return s.counter.Take(ctx, now, items, out)
	}
	p, ok := s.counter.(counter.Peeker)
	if !ok {
		return errNoPeek
	}
	return p.Peek(ctx, now, items, out)
}
