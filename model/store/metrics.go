package store

import "github.com/prometheus/client_golang/prometheus"

// metrics of the store, registered on the registry given to New.
type metrics struct {
	resyncs  prometheus.Counter
	invalid  prometheus.Gauge
	revision prometheus.Gauge
	commits  *prometheus.CounterVec
	// connected is 1 while etcd answers quorum reads (health.go).
	connected prometheus.Gauge
	// watchDelay and viewUpdate are the first stages of propagation.
	watchDelay, viewUpdate prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "apigw_store_resyncs_total", Help: "Full re-lists of etcd after a compaction or a broken watch.",
		}),
		invalid: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "apigw_store_invalid_objects", Help: "Objects in etcd that failed validation and are skipped.",
		}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "apigw_store_revision", Help: "etcd revision of the latest published snapshot.",
		}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apigw_store_commits_total", Help: "Admin transactions by result (ok, conflict, error).",
		}, []string{"result"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "apigw_store_connected", Help: "1 while etcd answers reads that need its quorum, 0 while it has no quorum or cannot be reached.",
		}),
	}
	m.connected.Set(1)
	m.watchDelay = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "apigw_store_watch_delay_seconds", Help: "Time from an etcd commit made by this apigw to its watch event.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
	})
	m.viewUpdate = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "apigw_store_view_update_seconds", Help: "Time from a watch event to the snapshot of the changed definitions (decode, view update, publish).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
	})
	if reg != nil {
		reg.MustRegister(m.resyncs, m.invalid, m.revision, m.commits, m.connected, m.watchDelay, m.viewUpdate)
	}
	return m
}
