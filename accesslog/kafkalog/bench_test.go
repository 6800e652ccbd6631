package kafkalog_test

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/apigw/apigw/accesslog"
)

type noopSink struct{ n int }

func (s *noopSink) Add(*accesslog.Record) { s.n++ }

// BenchmarkProducer decodes access-log entries of a bound API and hands
// them to a sink: a no-op sink, and the kafka_log producer writing to an
// in-process broker (kfake), timed until Kafka has acknowledged every
// record. records/s is what the sink took; for the producer, every record
// is sent (the buffer is large enough for the run, so none is dropped).
//
//	go test ./accesslog/kafkalog -run '^$' -bench Producer -benchtime 200000x
func BenchmarkProducer(b *testing.B) {
	node := &corev3.Node{Cluster: "default"}
	e := entry("items", "RELEASE", "0f8fad5b-d9cb-469f-a165-70867728950e")
	b.Run("sink=noop", func(b *testing.B) {
		s := &noopSink{}
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			r := accesslog.Decode(node, e)
			s.Add(&r)
		}
		b.ReportMetric(float64(s.n)/time.Since(start).Seconds(), "records/s")
	})
	b.Run("sink=kafka", func(b *testing.B) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		reg := prometheus.NewRegistry()
		p := newProducer(b, reg, 1<<22)
		p.Update(world(kafkaPlugin("k1", map[string]any{"broker_list": c.ListenAddrs(), "topic": topic})))
		sent := counter(b, reg, "sent")
		b.ReportAllocs()
		start := time.Now()
		n := 0
		for b.Loop() {
			r := accesslog.Decode(node, e)
			p.Add(&r)
			n++
		}
		for testutil.ToFloat64(sent) < float64(n) {
			if d := testutil.ToFloat64(counter(b, reg, "dropped")) + testutil.ToFloat64(counter(b, reg, "failed")); d > 0 {
				b.Fatalf("%v records dropped or failed", d)
			}
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
	})
}
