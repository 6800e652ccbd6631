package server

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	streams     prometheus.Gauge
	acks, nacks *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "apigw_xds_streams", Help: "Open xDS streams."}),
		acks:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apigw_xds_acks_total", Help: "Configuration versions Envoys accepted, by type."}, []string{"type"}),
		nacks:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apigw_xds_nacks_total", Help: "Configuration versions Envoys rejected, by type."}, []string{"type"}),
	}
	if reg != nil {
		reg.MustRegister(m.streams, m.acks, m.nacks)
	}
	return m
}
