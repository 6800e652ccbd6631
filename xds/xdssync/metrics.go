package xdssync

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	duration prometheus.Histogram
	// wait and translate are stages of propagation.
	wait, translate prometheus.Histogram
	revision        prometheus.Gauge
	problems        prometheus.Gauge
	failures        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "apigw_xds_sync_seconds", Help: "Time to translate and install a snapshot.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{Name: "apigw_xds_revision", Help: "etcd revision of the configuration being served."}),
		problems: prometheus.NewGauge(prometheus.GaugeOpts{Name: "apigw_xds_api_problems", Help: "Published APIs left out of the configuration."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "apigw_xds_translate_failures_total", Help: "Translations that failed (the previous configuration is kept)."}),
	}
	m.wait = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "apigw_xds_sync_wait_seconds",
		Help: "Time a snapshot waits for translation (debounce of bursts).", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18)})
	m.translate = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "apigw_xds_translate_seconds",
		Help: "Time to translate one instance.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18)})
	if reg != nil {
		reg.MustRegister(m.duration, m.revision, m.problems, m.failures, m.wait, m.translate)
	}
	return m
}
