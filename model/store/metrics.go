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
	if reg != nil {
		reg.MustRegister(m.resyncs, m.invalid, m.revision, m.commits, m.connected)
	}
	return m
}
