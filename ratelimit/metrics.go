package ratelimit

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apigw/apigw/dataplane"
)

// metrics are resolved to label children up front so the request path
// only does atomic adds.
type metrics struct {
	requests  [2]prometheus.Counter // by overall code: OK, OVER_LIMIT
	overByDim map[string]prometheus.Counter
	unknown   prometheus.Counter
	failures  [2]prometheus.Counter // by the FailureMode applied
	cached    prometheus.Counter
	duration  prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "apigw", Subsystem: "ratelimit", Name: "requests_total",
		Help: "ShouldRateLimit calls by overall code.",
	}, []string{"code"})
	over := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "apigw", Subsystem: "ratelimit", Name: "over_limit_total",
		Help: "Descriptors answered OVER_LIMIT, by dimension.",
	}, []string{"dim"})
	unknown := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "apigw", Subsystem: "ratelimit", Name: "unknown_descriptors_total",
		Help: "Descriptors outside the apigw scheme (answered OK).",
	})
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "apigw", Subsystem: "ratelimit", Name: "counter_failures_total",
		Help: "Calls whose counter failed, by the failure mode applied (open or closed).",
	}, []string{"mode"})
	cached := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "apigw", Subsystem: "ratelimit", Name: "over_limit_cache_answers_total",
		Help: "Calls refused from the over-limit cache without asking the counter.",
	})
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "apigw", Subsystem: "ratelimit", Name: "duration_seconds",
		Help:    "Time to answer ShouldRateLimit.",
		Buckets: []float64{25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3},
	})
	if reg != nil {
		for _, c := range []prometheus.Collector{requests, over, unknown, failures, cached, duration} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("ratelimit: registering metrics: %w", err)
			}
		}
	}
	m := &metrics{
		requests:  [2]prometheus.Counter{requests.WithLabelValues("ok"), requests.WithLabelValues("over_limit")},
		overByDim: map[string]prometheus.Counter{},
		unknown:   unknown,
		failures:  [2]prometheus.Counter{FailOpen: failures.WithLabelValues(FailOpen.String()), FailClosed: failures.WithLabelValues(FailClosed.String())},
		cached:    cached,
		duration:  duration,
	}
	for _, d := range dataplane.RateLimitDims() {
		m.overByDim[d] = over.WithLabelValues(d)
	}
	return m, nil
}
