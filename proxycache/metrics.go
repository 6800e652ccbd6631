package proxycache

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	hits, misses, stores, evictions, errors prometheus.Counter
	bytes                                   prometheus.Gauge
}

func newMetrics() *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "apigw", Subsystem: "proxy_cache", Name: name, Help: help})
	}
	return &metrics{
		hits:      c("hits_total", "Requests answered from the proxy_cache cache."),
		misses:    c("misses_total", "Cacheable requests not found in the cache (sent to the backend)."),
		stores:    c("stores_total", "Responses stored."),
		evictions: c("evictions_total", "Entries evicted to stay under the total size."),
		errors:    c("stream_errors_total", "ext_proc streams that ended in an error."),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "apigw", Subsystem: "proxy_cache", Name: "bytes",
			Help: "Size of the stored entries."}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.hits, m.misses, m.stores, m.evictions, m.errors, m.bytes}
}
