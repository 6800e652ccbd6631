package counter

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type redisMetrics struct {
	reg           prometheus.Registerer
	errors        prometheus.Counter
	reloads       prometheus.Counter
	compensations prometheus.Counter
	duration      prometheus.Observer
	batch         prometheus.Observer
}

func (m *redisMetrics) init() error {
	errs := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "apigw", Subsystem: "ratelimit_redis", Name: "errors_total",
		Help: "Takes that failed (Redis unreachable, timeout, bad reply).",
	})
	reloads := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "apigw", Subsystem: "ratelimit_redis", Name: "script_reloads_total",
		Help: "Script calls resent with EVAL because Redis had lost the script.",
	})
	comp := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "apigw", Subsystem: "ratelimit_redis", Name: "compensations_total",
		Help: "Requests refused in one hash slot whose hits in other slots were taken back.",
	})
	dur := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "apigw", Subsystem: "ratelimit_redis", Name: "batch_duration_seconds",
		Help:    "Time to run one batch of Takes against Redis, round trips included.",
		Buckets: []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3},
	})
	batch := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "apigw", Subsystem: "ratelimit_redis", Name: "batch_size",
		Help:    "Takes coalesced into one round trip.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
	})
	if m.reg != nil {
		for _, c := range []prometheus.Collector{errs, reloads, comp, dur, batch} {
			if err := m.reg.Register(c); err != nil {
				return fmt.Errorf("counter: registering redis metrics: %w", err)
			}
		}
	}
	m.errors, m.reloads, m.compensations, m.duration, m.batch = errs, reloads, comp, dur, batch
	return nil
}

func (m *redisMetrics) observe(start time.Time, takes int, err error) {
	m.duration.Observe(time.Since(start).Seconds())
	m.batch.Observe(float64(takes))
	if err != nil {
		m.errors.Add(float64(takes))
	}
}
