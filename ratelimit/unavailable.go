package ratelimit

import (
	"github.com/apigw/apigw/ratelimit/counter"
)

// unavailable refuses a call that has a limit admitting nothing (an API
// held closed, an app whose credential quota cannot be read: quota's
// policy-unavailable limits) without asking the counter. The counter
// would refuse it and count nothing (a refused call counts nowhere); not
// asking it means no counter state, failure mode or over-limit cache can
// admit the call, and a closed API costs no round trip. The statuses of
// the other limits, not asked, carry no current_limit. It returns nil
// when every limit admits something.
func (s *Service) unavailable(sc *scratch) []counter.Result {
	closed := false
	for i := range sc.items {
		if sc.items[i].Limit == 0 {
			closed = true
			break
		}
	}
	if !closed {
		return nil
	}
	n := len(sc.items)
	if cap(sc.results) < n {
		sc.results = make([]counter.Result, n)
	}
	results := sc.results[:n]
	for i := range sc.items {
		c := &sc.checks[i]
		if sc.items[i].Limit == 0 {
			// The condition is looked at again on every call: retry at
			// the end of the limit's period.
			results[i] = counter.Result{Over: true, Reset: c.limit.Period}
			continue
		}
		results[i], c.unknown = counter.Result{}, true
	}
	return results
}
