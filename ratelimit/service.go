// Package ratelimit is apigw's rate-limit service: Envoy's RLS v3
// (envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit) over the
// descriptor scheme of dataplane (RateLimit*). Each call resolves the
// limits from the feed's current snapshot (ratelimit/quota), admits the
// hits on a counter (ratelimit/counter) all or nothing, and answers with
// per-descriptor statuses for Envoy's X-RateLimit headers, the rendered
// gateway response when a limit is hit, and APIG's debug headers.
package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/ratelimit/quota"
)

// Service implements rlsv3.RateLimitServiceServer.
type Service struct {
	rlsv3.UnimplementedRateLimitServiceServer

	feed    *live.Feed
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
	// over remembers refusals of a remote counter (nil for the memory
	// counter, which answers as fast itself).
	over *counter.OverCache
	// scratch holds a call's working memory (*scratch), requests the
	// decoded requests (*wireRequest).
	scratch  sync.Pool
	requests sync.Pool
	// responses caches rendered gateway responses per snapshot.
	responses atomic.Pointer[responseCache]
	// plugins caches the prepared rate_limit plug-ins of a snapshot.
	plugins atomic.Pointer[pluginCache]
	// info and wireHandler are what the gRPC handler passes interceptors
	// (made once: none is allocated per call); reuseRequests says they
	// keep no request (WithRequestReuse).
	info          grpc.UnaryServerInfo
	wireHandler   grpc.UnaryHandler
	reuseRequests bool
	// dryRun reads the counters without counting (WithDryRun).
	dryRun bool
}

var _ rlsv3.RateLimitServiceServer = (*Service)(nil)

// New returns a service answering from feed's current snapshot with
// counter c.
func New(feed *live.Feed, c counter.Counter, logger *slog.Logger, opts ...Option) (*Service, error) {
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
	if _, local := c.(*counter.Memory); !local && !s.dryRun {
		s.over = counter.NewOverCache()
	}
	s.scratch.New = func() any { return new(scratch) }
	s.info = grpc.UnaryServerInfo{Server: s, FullMethod: rlsv3.RateLimitService_ShouldRateLimit_FullMethodName}
	s.wireHandler = s.handleWire
	return s, nil
}

// check is one descriptor that has a limit.
type check struct {
	idx   int // descriptor index
	in    *model.Instance
	api   *apigwv1.Api // as published in the environment
	d     dataplane.RateLimitDescriptor
	limit quota.Limit
	// unknown marks a limit whose counter was not asked: the over-limit
	// cache, or a limit that admits nothing, refused the call on another
	// one.
	unknown bool
}

// requestContext is what the descriptors say about the request itself.
type requestContext struct {
	snap                                     *live.Snapshot
	requestID, method, path, appID, clientIP string
	debug                                    bool
}

// scratch is a call's working memory, reused across calls: the request
// as read, the checks, their counter items and results, the counter keys
// (the items' keys point into keys, valid until the scratch is reused:
// counters keep no item after Take), and the answer.
type scratch struct {
	call    *callView // the request as read: own, or a wireRequest's
	own     callView
	rc      requestContext
	checks  []check
	items   []counter.Item
	results []counter.Result // results[:len(items)] once counted; nil: not counted
	keys    []byte
	ends    []int
	answer  answer
}

// ShouldRateLimit implements rlsv3.RateLimitServiceServer. It never
// returns an error: descriptors it does not know are answered OK, and a
// failing counter is answered per the failure mode (see take). (Served
// over gRPC, the service reads and writes the messages' wire form itself;
// see Register.)
func (s *Service) ShouldRateLimit(ctx context.Context, req *rlsv3.RateLimitRequest) (*rlsv3.RateLimitResponse, error) {
	sc := s.scratch.Get().(*scratch)
	sc.own.fromProto(req)
	sc.call = &sc.own
	s.decide(ctx, sc)
	resp := s.toProto(sc)
	sc.call = nil
	s.scratch.Put(sc)
	return resp, nil
}

// decide answers the call in sc.call: it resolves the limits, counts
// them (or refuses a limit that admits nothing, or finds the answer in
// the over-limit cache) and fills sc.answer.
func (s *Service) decide(ctx context.Context, sc *scratch) {
	start := time.Now()
	sc.rc = requestContext{}
	s.resolve(sc)
	var results []counter.Result
	if len(sc.items) > 0 {
		now := start
		if _, real := s.clock.(systemClock); !real {
			now = s.clock.Now()
		}
		if results = s.unavailable(sc); results == nil {
			if results = s.cached(now, sc, &sc.rc); results == nil {
				results = s.take(ctx, now, sc.items, sc.results[:cap(sc.results)])
			}
		}
		if cap(results) > cap(sc.results) {
			sc.results = results[:0]
		}
	}
	s.decideAnswer(sc, results)
	if sc.answer.over {
		s.m.requests[1].Inc()
	} else {
		s.m.requests[0].Inc()
	}
	s.m.duration.Observe(time.Since(start).Seconds())
}

// resolve parses the call's descriptors and puts those that have a limit
// in sc, with their counter items.
func (s *Service) resolve(sc *scratch) {
	sc.checks, sc.items, sc.keys, sc.ends = sc.checks[:0], sc.items[:0], sc.keys[:0], sc.ends[:0]
	snap := s.feed.Current()
	if sc.call.domain != dataplane.RateLimitDomain || snap == nil {
		return
	}
	rc := &sc.rc
	rc.snap = snap
	var (
		scope         quota.Scope // of the previous descriptor: most share one
		scopeInstance string
	)
	for i := range sc.call.descs {
		dv := &sc.call.descs[i]
		d, ok := parse(sc.call.entries[dv.first:dv.first+dv.n], rc)
		if !ok {
			s.m.unknown.Inc()
			continue
		}
		if dv.negative {
			continue // refunds are not supported; never an error
		}
		if d.Instance != scopeInstance || d.API != scope.API || d.Env != scope.Env {
			scopeInstance = d.Instance
			scope = quota.NewScopeCached(snap.Instance(d.Instance), d.API, d.Env, s.rateLimits(snap))
		}
		l, keys, ok := scope.ResolveAppend(&d, sc.keys)
		if !ok {
			continue
		}
		sc.keys = keys
		sc.ends = append(sc.ends, len(keys))
		sc.checks = append(sc.checks, check{idx: i, in: scope.Instance(), api: scope.Published(), d: d, limit: l})
		sc.items = append(sc.items, counter.Item{Limit: l.Requests, Hits: hits(dv, sc.call.hits), Window: s.window(l)})
	}
	// The keys, once the buffer is final.
	from := 0
	for i, end := range sc.ends {
		sc.items[i].Key = unsafe.String(unsafe.SliceData(sc.keys[from:]), end-from)
		from = end
	}
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
	err := s.count(ctx, now, items, results)
	if err == nil {
		s.learn(now, items, results)
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

// pluginCache holds the rate_limit plug-ins prepared for one snapshot.
type pluginCache struct {
	snap *live.Snapshot
	rl   quota.RateLimits
}

// rateLimits returns the cache of prepared rate_limit plug-ins of a
// snapshot; a new snapshot starts an empty one, so nothing outlives the
// definitions it was prepared from.
func (s *Service) rateLimits(snap *live.Snapshot) *quota.RateLimits {
	for {
		cur := s.plugins.Load()
		if cur != nil && cur.snap == snap {
			return &cur.rl
		}
		next := &pluginCache{snap: snap}
		if s.plugins.CompareAndSwap(cur, next) {
			return &next.rl
		}
	}
}
