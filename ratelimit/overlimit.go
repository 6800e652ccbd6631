package ratelimit

import (
	"time"

	"github.com/apigw/apigw/ratelimit/counter"
)

// cached answers a call without its counter when the over-limit cache
// knows that one of its limits has no room for it (see
// counter.OverCache: the counter would refuse it too, and a refused call
// counts nowhere). It returns nil when the counter must decide, and for
// debug calls, whose headers show every limit's count.
//
// The counter would render the first limit over in the order api, user,
// app, ip, app_quota; a limit ranked before the known one that the cache
// knows nothing of could be over too, so the cache answers only when
// every such limit has the same gateway response. The statuses of the
// limits the cache knows nothing of carry no current_limit.
func (s *Service) cached(now time.Time, sc *scratch, rc *requestContext) []counter.Result {
	if s.over == nil || rc.debug {
		return nil
	}
	n := len(sc.items)
	if cap(sc.results) < n {
		sc.results = make([]counter.Result, n)
	}
	results := sc.results[:n]
	hit := -1
	for i := range sc.items {
		r, ok := s.over.Over(now, &sc.items[i])
		results[i] = r
		sc.checks[i].unknown = !ok
		if ok && (hit < 0 || rank(sc.checks[i].d.Dim) < rank(sc.checks[hit].d.Dim)) {
			hit = i
		}
	}
	if hit >= 0 && decides(sc.checks, hit) {
		s.m.cached.Inc()
		return results
	}
	for i := range sc.checks {
		sc.checks[i].unknown = false
	}
	return nil
}

// learn keeps the counter's refusals in the over-limit cache.
func (s *Service) learn(now time.Time, items []counter.Item, results []counter.Result) {
	if s.over == nil {
		return
	}
	for i := range items {
		if results[i].Over {
			s.over.Learn(now, &items[i], results[i])
		}
	}
}

// decides reports whether the known refusal of checks[hit] renders what
// the counter would: no limit ranked before it that the cache knows
// nothing of has another gateway response.
func decides(checks []check, hit int) bool {
	h := &checks[hit]
	for i := range checks {
		c := &checks[i]
		if c.unknown && rank(c.d.Dim) < rank(h.d.Dim) && c.limit.Error != h.limit.Error {
			return false
		}
	}
	return true
}
