package ads

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	streams     prometheus.Gauge
	acks, nacks *prometheus.CounterVec
	responses   *prometheus.CounterVec
	bytes       *prometheus.CounterVec
	sendDelay   prometheus.Histogram
	ackDelay    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	buckets := prometheus.ExponentialBuckets(0.0001, 2, 18)
	m := &metrics{
		streams:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "apigw_xds_streams", Help: "Open xDS streams."}),
		acks:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apigw_xds_acks_total", Help: "Configuration versions Envoys accepted, by type."}, []string{"type"}),
		nacks:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apigw_xds_nacks_total", Help: "Configuration versions Envoys rejected, by type."}, []string{"type"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apigw_xds_responses_total", Help: "xDS responses sent, by type."}, []string{"type"}),
		bytes:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apigw_xds_response_bytes_total", Help: "Bytes of xDS responses sent, by type."}, []string{"type"}),
		sendDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "apigw_xds_send_delay_seconds",
			Help: "Time from a version's installation in the cache to a stream handing its response to gRPC.", Buckets: buckets}),
		ackDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "apigw_xds_ack_delay_seconds",
			Help: "Time from sending a response to the Envoy's ACK.", Buckets: buckets}),
	}
	if reg != nil {
		reg.MustRegister(m.streams, m.acks, m.nacks, m.responses, m.bytes, m.sendDelay, m.ackDelay)
	}
	return m
}

func (m *metrics) sent(typeURL string, n int, sinceInstalled time.Duration) {
	m.responses.WithLabelValues(typeURL).Inc()
	m.bytes.WithLabelValues(typeURL).Add(float64(n))
	m.sendDelay.Observe(sinceInstalled.Seconds())
}
