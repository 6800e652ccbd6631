package ratelimit

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Clock supplies the time windows are counted in.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// FailureMode says how the service answers when its counter fails (Redis
// unreachable or too slow).
type FailureMode int

const (
	// FailClosed answers OVER_LIMIT with the throttled gateway response
	// (the default).
	FailClosed FailureMode = iota
	// FailOpen answers OK while the counter cannot be reached: traffic
	// flows unlimited while counting is down. Errors about what is counted
	// (a window the counter cannot count) still fail closed.
	FailOpen
)

func (m FailureMode) String() string {
	if m == FailClosed {
		return "closed"
	}
	return "open"
}

// DefaultBuckets is the default number of sub-buckets of a sliding
// window (see counter.Window for the accuracy this gives).
const DefaultBuckets = 10

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests use a fake one).
func WithClock(c Clock) Option { return func(s *Service) { s.clock = c } }

// WithBuckets sets the sub-buckets per sliding window (1-60): more
// buckets admit closer to the limit at the cost of memory per counter.
func WithBuckets(n int) Option {
	return func(s *Service) { s.buckets = min(max(n, 1), 60) }
}

// WithFailureMode sets the answer when the counter cannot be reached
// (default FailClosed: no limit is switched off by an outage).
func WithFailureMode(m FailureMode) Option {
	return func(s *Service) {
		s.failure = FailClosed
		if m == FailOpen {
			s.failure = FailOpen
		}
	}
}

// WithRequestReuse tells the service that the unary interceptors of the
// gRPC server it is registered on never keep a request after they return
// (apigw's panic recovery does not), so that the memory of a request read
// from the wire is reused for later calls when interceptors are set too.
// Without it, a request handed to interceptors is left to them (a new one
// is allocated for the next call).
func WithRequestReuse() Option { return func(s *Service) { s.reuseRequests = true } }

// WithRegisterer registers the service's metrics.
func WithRegisterer(r prometheus.Registerer) Option { return func(s *Service) { s.reg = r } }
