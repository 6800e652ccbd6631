// Package kafkalog is the producer of the kafka_log plug-ins
// (docs/plugins.md#kafka_log): a sink of the access-log stream that writes
// a JSON record with the plug-in's fields to its Kafka topic for every
// request of an API bound to one (per environment).
//
// The access-log stream never waits for Kafka: each plug-in has a bounded
// buffer of records not yet acknowledged; a record that finds it full is
// dropped and counted (apigw_kafka_log_records_total{result="dropped"}),
// as is one Kafka refused or that could not be delivered after the
// plug-in's retries (result="failed").
package kafkalog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// DefaultBufferRecords is how many records a plug-in holds while Kafka has
// not acknowledged them.
const DefaultBufferRecords = 10000

// Options configure a Producer.
type Options struct {
	// BufferRecords bounds the records each plug-in holds unacknowledged
	// (DefaultBufferRecords when 0).
	BufferRecords int
	// Registerer receives the metrics (none when nil).
	Registerer prometheus.Registerer
	// ClientOptions are added to every Kafka client (tests).
	ClientOptions []kgo.Opt
}

// Producer feeds the kafka_log plug-ins from the access-log stream. It is
// an accesslog.Sink; Run keeps its plug-ins and bindings current.
type Producer struct {
	log     *slog.Logger
	opts    Options
	records *prometheus.CounterVec
	routes  atomic.Pointer[routeTable]

	mu      sync.Mutex         // guards targets (Update, Close)
	targets map[string]*target // by instance and plug-in id
}

// routeKey names what an access-log record hit.
type routeKey struct{ instance, api, env string }

// route is what the records of an (instance, API, environment) carry
// besides the entry: the plug-ins, and what the model says of the API.
type route struct {
	targets             []*target
	in                  *model.Instance
	authType, matchMode string
}

type routeTable map[routeKey]*route

// New returns a producer with no plug-ins; Run or Update gives it some.
func New(log *slog.Logger, opts Options) (*Producer, error) {
	if opts.BufferRecords <= 0 {
		opts.BufferRecords = DefaultBufferRecords
	}
	records := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "apigw", Subsystem: "kafka_log", Name: "records_total",
		Help: "Records of the kafka_log plug-ins, by result: sent (acknowledged by Kafka), dropped (the plug-in's buffer was full), failed (refused by Kafka or not delivered after the retries)."},
		[]string{"gateway", "plugin", "result"})
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(records); err != nil {
			return nil, fmt.Errorf("kafkalog: registering metrics: %w", err)
		}
	}
	p := &Producer{log: log.With("component", "kafka_log"), opts: opts, records: records, targets: map[string]*target{}}
	p.routes.Store(&routeTable{})
	return p, nil
}

// Add writes a record for every kafka_log plug-in bound to the record's
// API and environment. It never blocks on Kafka.
func (p *Producer) Add(r *accesslog.Record) {
	if r.API == "" {
		return
	}
	rt := (*p.routes.Load())[routeKey{r.Instance, r.API, r.Env}]
	if rt == nil {
		return
	}
	for _, t := range rt.targets {
		t.produce(r, rt)
	}
}

// Run follows the feed's snapshots until ctx ends, then closes the
// clients.
func (p *Producer) Run(ctx context.Context, feed *live.Feed) error {
	for snap := range feed.Subscribe(ctx) {
		p.Update(snap)
	}
	p.Close()
	return nil
}

// Update makes the plug-ins and bindings of a snapshot current: a client
// per kafka_log plug-in (kept while its content does not change) and the
// (instance, API, environment) it serves.
func (p *Producer) Update(snap *live.Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := map[string]*target{}
	routes := routeTable{}
	for _, in := range snap.Instances() {
		for _, m := range in.Objects(model.KindPlugin) {
			pl, ok := m.(*apigwv1.Plugin)
			if !ok || pl.PluginType != model.PluginKafkaLog {
				continue
			}
			id := in.Name + "/" + pl.Id
			if t := p.targets[id]; t != nil && t.content == contentKey(pl) && t.name == pl.PluginName {
				next[id] = t
				continue
			}
			t, err := p.newTarget(in.Name, pl)
			if err != nil {
				p.log.Warn("kafka_log plug-in not started", "instance", in.Name, "plugin", pl.PluginName, "err", err)
				continue
			}
			next[id] = t
		}
		for _, m := range in.Objects(model.KindPluginBinding) {
			b, ok := m.(*apigwv1.PluginBinding)
			if !ok {
				continue
			}
			if t := next[in.Name+"/"+b.PluginId]; t != nil {
				k := routeKey{in.Name, b.ApiId, b.EnvId}
				if routes[k] == nil {
					// The API as served in the environment (its draft if
					// it is not published there).
					api := in.Served(b.ApiId, b.EnvId).GetApi()
					if api == nil {
						api = in.API(b.ApiId)
					}
					routes[k] = &route{in: in, authType: api.GetAuthType(), matchMode: api.GetMatchMode()}
				}
				routes[k].targets = append(routes[k].targets, t)
			}
		}
	}
	p.routes.Store(&routes)
	for id, t := range p.targets {
		if next[id] != t {
			p.retire(t)
		}
	}
	p.targets = next
}

// contentKey is what a plug-in's client depends on: its content and its
// password.
func contentKey(pl *apigwv1.Plugin) string { return pl.PluginContent + "\x00" + pl.PluginSecret }

// Close closes every client; records still buffered are failed.
func (p *Producer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.routes.Store(&routeTable{})
	for _, t := range p.targets {
		p.retire(t)
	}
	p.targets = map[string]*target{}
}

// retire closes a client no route leads to any more and, once its
// buffered records are settled, deletes its series unless a current
// plug-in has the same name (a changed content keeps counting).
func (p *Producer) retire(t *target) {
	go func() {
		t.cl.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, cur := range p.targets {
			if cur.instance == t.instance && cur.name == t.name {
				return
			}
		}
		for _, res := range []string{resultSent, resultDropped, resultFailed} {
			p.records.DeleteLabelValues(t.instance, t.name, res)
		}
	}()
}
