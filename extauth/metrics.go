package extauth

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	checks     *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	authorizer *prometheus.CounterVec

	// Resolved children, so that the request path does no label lookups.
	allowCount                           prometheus.Counter
	downgradeCount, passthroughCount     prometheus.Counter
	denyCount                            map[Reason]prometheus.Counter
	allowLatency, denyLatency            prometheus.Observer
	azHit, azCall, azDowngraded, azError prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "apigw", Subsystem: "extauth", Name: "checks_total",
			Help: "Authorization checks by decision and reason.",
		}, []string{"decision", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "apigw", Subsystem: "extauth", Name: "check_duration_seconds",
			Help:    "Time to answer a check, by decision.",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"decision"}),
		authorizer: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "apigw", Subsystem: "extauth", Name: "authorizer_calls_total",
			Help: "Custom-authorizer lookups by result: hit (cache), call, downgraded, error.",
		}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.checks, m.latency, m.authorizer)
	}
	m.allowCount = m.checks.WithLabelValues("allow", string(ReasonAllowed))
	m.downgradeCount = m.checks.WithLabelValues("allow", string(ReasonBreakerDowngrade))
	m.passthroughCount = m.checks.WithLabelValues("allow", string(ReasonBreakerPassthrough))
	m.denyCount = map[Reason]prometheus.Counter{}
	for _, r := range denyReasons() {
		m.denyCount[r] = m.checks.WithLabelValues("deny", string(r))
	}
	m.allowLatency, m.denyLatency = m.latency.WithLabelValues("allow"), m.latency.WithLabelValues("deny")
	m.azHit, m.azCall = m.authorizer.WithLabelValues("hit"), m.authorizer.WithLabelValues("call")
	m.azDowngraded, m.azError = m.authorizer.WithLabelValues("downgraded"), m.authorizer.WithLabelValues("error")
	return m
}

func (m *metrics) observe(allowed bool, r Reason, d time.Duration) {
	if allowed {
		switch r {
		case ReasonBreakerDowngrade:
			m.downgradeCount.Inc()
		case ReasonBreakerPassthrough:
			m.passthroughCount.Inc()
		default:
			m.allowCount.Inc()
		}
		m.allowLatency.Observe(d.Seconds())
		return
	}
	c := m.denyCount[r]
	if c == nil {
		c = m.checks.WithLabelValues("deny", string(r))
	}
	c.Inc()
	m.denyLatency.Observe(d.Seconds())
}
