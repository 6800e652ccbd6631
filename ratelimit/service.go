// Package ratelimit is apigw's rate-limit service: Envoy's RLS v3
// (envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit) over the
// descriptor scheme of ratelimit/descriptor. Each call resolves the
// limits from the feed's current snapshot (ratelimit/quota), admits the
// hits on a counter (ratelimit/counter) all or nothing, and answers with
// per-descriptor statuses for Envoy's X-RateLimit headers, the rendered
// gateway response when a limit is hit, and APIG's debug headers.
package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/ratelimit/descriptor"
	"github.com/apigw/apigw/ratelimit/quota"
)

// Service implements rlsv3.RateLimitServiceServer.
type Service struct {
	rlsv3.UnimplementedRateLimitServiceServer

	feed    *model.Feed
	counter counter.Counter
	log     *slog.Logger
	clock   Clock
	buckets int
	failure FailureMode
	reg     prometheus.Registerer
	m       *metrics

	// ok is the status of descriptors without a limit, shared by all
	// responses (never modified).
	ok          *rlsv3.RateLimitResponse_DescriptorStatus
	lastFailLog atomic.Int64
}

var _ rlsv3.RateLimitServiceServer = (*Service)(nil)

// New returns a service answering from feed's current snapshot with
// counter c.
func New(feed *model.Feed, c counter.Counter, logger *slog.Logger, opts ...Option) (*Service, error) {
	if feed == nil || c == nil {
		return nil, errors.New("ratelimit: a feed and a counter are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		feed: feed, counter: c, log: logger.With(slog.String("component", "ratelimit")),
		clock: systemClock{}, buckets: DefaultBuckets,
		ok: &rlsv3.RateLimitResponse_DescriptorStatus{Code: rlsv3.RateLimitResponse_OK},
	}
	for _, o := range opts {
		o(s)
	}
	m, err := newMetrics(s.reg)
	if err != nil {
		return nil, err
	}
	s.m = m
	return s, nil
}

// Register registers the service on a gRPC server.
func (s *Service) Register(g *grpc.Server) { rlsv3.RegisterRateLimitServiceServer(g, s) }

// check is one descriptor that has a limit.
type check struct {
	idx   int // descriptor index
	in    *model.Instance
	d     descriptor.Descriptor
	limit quota.Limit
}

// requestContext is what the descriptors say about the request itself.
type requestContext struct {
	requestID, method, path, appID, clientIP string
	debug                                    bool
}

// ShouldRateLimit implements rlsv3.RateLimitServiceServer. It never
// returns an error: descriptors it does not know are answered OK, and a
// failing counter is answered per the failure mode (see take).
func (s *Service) ShouldRateLimit(ctx context.Context, req *rlsv3.RateLimitRequest) (*rlsv3.RateLimitResponse, error) {
	start := time.Now()
	descs := req.GetDescriptors()
	resp := &rlsv3.RateLimitResponse{OverallCode: rlsv3.RateLimitResponse_OK, Statuses: make([]*rlsv3.RateLimitResponse_DescriptorStatus, len(descs))}
	for i := range resp.Statuses {
		resp.Statuses[i] = s.ok
	}
	var (
		rc   requestContext
		cbuf [8]check
		ibuf [8]counter.Item
		rbuf [8]counter.Result
	)
	checks, items := s.resolve(req, &rc, cbuf[:0], ibuf[:0])
	results := rbuf[:0]
	if len(items) > 0 {
		now := start
		if _, real := s.clock.(systemClock); !real {
			now = s.clock.Now()
		}
		results = s.take(ctx, now, items, rbuf[:])
	}
	s.answer(resp, checks, results, &rc)
	if resp.OverallCode == rlsv3.RateLimitResponse_OVER_LIMIT {
		s.m.requests[1].Inc()
	} else {
		s.m.requests[0].Inc()
	}
	s.m.duration.Observe(time.Since(start).Seconds())
	return resp, nil
}

// resolve parses the request's descriptors and returns those that have a
// limit, with their counter items.
func (s *Service) resolve(req *rlsv3.RateLimitRequest, rc *requestContext, checks []check, items []counter.Item) ([]check, []counter.Item) {
	snap := s.feed.Current()
	if req.GetDomain() != descriptor.Domain || snap == nil {
		return checks, items
	}
	var (
		scope         quota.Scope // of the previous descriptor: most share one
		scopeInstance string
	)
	for i, rd := range req.GetDescriptors() {
		d, ok := parse(rd, rc)
		if !ok {
			s.m.unknown.Inc()
			continue
		}
		if rd.GetIsNegativeHits() {
			continue // refunds are not supported; never an error
		}
		if d.Instance != scopeInstance || d.API != scope.API || d.Env != scope.Env {
			scopeInstance = d.Instance
			scope = quota.NewScope(snap.Instance(d.Instance), d.API, d.Env)
		}
		l, ok := scope.Resolve(&d)
		if !ok {
			continue
		}
		checks = append(checks, check{idx: i, in: scope.Instance(), d: d, limit: l})
		items = append(items, counter.Item{Key: l.Key, Limit: l.Requests, Hits: hits(rd, req.GetHitsAddend()), Window: s.window(l)})
	}
	return checks, items
}

// take counts the items. When the counter fails it returns every item
// over the limit (fail closed), or nil (fail open: nothing is known) when
// the service was told to fail open and the counter could not be reached:
// an error about the items themselves (a window it cannot count) always
// fails closed, or a limit would be switched off.
func (s *Service) take(ctx context.Context, now time.Time, items []counter.Item, buf []counter.Result) []counter.Result {
	var results []counter.Result
	if len(items) <= len(buf) {
		results = buf[:len(items)]
	} else {
		results = make([]counter.Result, len(items))
	}
	err := s.counter.Take(ctx, now, items, results)
	if err == nil {
		return results
	}
	mode := s.failure
	if errors.Is(err, counter.ErrInvalidWindow) {
		mode = FailClosed
	}
	s.counterFailed(err, mode)
	if mode == FailOpen {
		return nil
	}
	for i := range results {
		results[i] = counter.Result{Over: true, Count: items[i].Limit}
	}
	return results
}

func (s *Service) window(l quota.Limit) counter.Window {
	if l.Aligned {
		return counter.Fixed(l.Period, l.Offset)
	}
	return counter.Sliding(l.Period, s.buckets)
}

// counterFailed counts a counter failure by the mode applied and logs at
// most once a second.
func (s *Service) counterFailed(err error, mode FailureMode) {
	s.m.failures[mode].Inc()
	now := time.Now().UnixNano()
	last := s.lastFailLog.Load()
	if now-last >= int64(time.Second) && s.lastFailLog.CompareAndSwap(last, now) {
		s.log.Warn("rate-limit counter failed", slog.String("failure_mode", mode.String()), slog.Any("err", err))
	}
}
