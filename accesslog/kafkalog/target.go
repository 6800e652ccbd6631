package kafkalog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Results of a record (the label result).
const (
	resultSent    = "sent"
	resultDropped = "dropped"
	resultFailed  = "failed"
)

// target is one kafka_log plug-in: its client, what its records carry and
// its buffer.
type target struct {
	instance, name, content string
	cl                      *kgo.Client
	layout                  layout
	key                     []byte
	limit                   int64
	pending                 atomic.Int64 // records handed to the client, not settled
	sent, dropped, failed   prometheus.Counter
	promise                 func(*kgo.Record, error)
}

func (p *Producer) newTarget(instance string, pl *apigwv1.Plugin) (*target, error) {
	c := model.KafkaLogContent(pl)
	if c == nil {
		return nil, errors.New("plugin_content does not decode")
	}
	opts, err := clientOptions(c, p.opts.BufferRecords)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, p.opts.ClientOptions...)...)
	if err != nil {
		return nil, err
	}
	t := &target{instance: instance, name: pl.PluginName, content: contentKey(pl), cl: cl, layout: newLayout(c.GetMetaConfig()),
		limit: int64(p.opts.BufferRecords),
		sent:  p.records.WithLabelValues(instance, pl.PluginName, resultSent), dropped: p.records.WithLabelValues(instance, pl.PluginName, resultDropped),
		failed: p.records.WithLabelValues(instance, pl.PluginName, resultFailed)}
	if c.Key != "" {
		t.key = []byte(c.Key)
	}
	t.promise = func(_ *kgo.Record, err error) {
		t.pending.Add(-1)
		switch {
		case err == nil:
			t.sent.Inc()
		case errors.Is(err, kgo.ErrMaxBuffered):
			t.dropped.Inc()
		default:
			t.failed.Inc()
		}
	}
	return t, nil
}

// produce hands a record to the client unless the plug-in's buffer is
// full. The client never blocks: TryProduce fails instead of waiting.
func (t *target) produce(r *accesslog.Record, rt *route) {
	if t.pending.Add(1) > t.limit {
		t.pending.Add(-1)
		t.dropped.Inc()
		return
	}
	t.cl.TryProduce(context.Background(), &kgo.Record{Key: t.key, Value: t.layout.render(r, rt)}, t.promise)
}

// clientOptions configures a client for a plug-in: its brokers and topic,
// its retries with their back-off, SASL and TLS.
func clientOptions(c *apigwv1.KafkaLogContent, buffer int) ([]kgo.Opt, error) {
	retries := int(c.GetMaxRetryCount())
	backoff := time.Second
	if c.RetryBackoff != nil {
		backoff = time.Duration(c.GetRetryBackoff()) * time.Second
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.BrokerList...),
		kgo.DefaultProduceTopic(c.Topic),
		kgo.ClientID("apigw-kafka-log"),
		// Exact retry counts: idempotent writes would retry past them.
		kgo.DisableIdempotentWrite(),
		kgo.RecordRetries(retries),
		kgo.RetryBackoffFn(func(int) time.Duration { return backoff }),
		// A backstop: the target bounds its records itself.
		kgo.MaxBufferedRecords(buffer + 1),
		// Kafka unreachable: records are failed after the retries, or
		// this long, so that the buffer drains.
		kgo.RecordDeliveryTimeout(30*time.Second + time.Duration(retries)*backoff),
		kgo.ProducerLinger(5 * time.Millisecond),
	}
	s := c.GetSaslConfig()
	proto := model.KafkaSecurityProtocol(s)
	if proto == model.KafkaPlaintext {
		return opts, nil
	}
	var mech sasl.Mechanism
	switch model.KafkaMechanism(s) {
	case model.KafkaPlain:
		mech = plain.Auth{User: s.GetSaslUsername(), Pass: s.GetSaslPassword()}.AsMechanism()
	case model.KafkaScram256:
		mech = scram.Auth{User: s.GetSaslUsername(), Pass: s.GetSaslPassword()}.AsSha256Mechanism()
	case model.KafkaScram512:
		mech = scram.Auth{User: s.GetSaslUsername(), Pass: s.GetSaslPassword()}.AsSha512Mechanism()
	default:
		return nil, fmt.Errorf("sasl_config.sasl_mechanisms %q is not supported", s.GetSaslMechanisms())
	}
	opts = append(opts, kgo.SASL(mech))
	if proto == model.KafkaSASLSSL {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if ca := s.GetSslCaContent(); ca != "" {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM([]byte(ca)) {
				return nil, errors.New("sasl_config.ssl_ca_content is not a PEM certificate")
			}
			cfg.RootCAs = pool
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	return opts, nil
}
