package ads

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/xds/xdscache"
)

// maxRejected bounds the nodes whose rejected versions are remembered
// after they disconnect.
const maxRejected = 10000

// tracker records what each Envoy accepted and rejected, per node and
// type, into the status, the metrics and the logs.
type tracker struct {
	log    *slog.Logger
	status NodeRecorder
	cache  *xdscache.Cache
	opts   Options
	m      *metrics

	mu    sync.Mutex
	nodes map[string]*nodeState
	// rejected remembers, per node and feed, the last version the node
	// rejected, across its reconnections.
	rejectedBy map[string]map[string]string
}

type nodeState struct {
	streams int
	types   map[string]*typeState
}

type typeState struct {
	acked, nacked, nack string
	lastLog             time.Time
	suppressed          int
}

// answer is an Envoy's answer to a response.
type answer struct {
	node                                  *corev3.Node
	delta, nack                           bool
	typeURL, feed, version, lastGood, err string
	rtt                                   time.Duration
}

func newTracker(log *slog.Logger, status NodeRecorder, cache *xdscache.Cache, opts Options, m *metrics) *tracker {
	return &tracker{log: log, status: status, cache: cache, opts: opts, m: m, nodes: map[string]*nodeState{}, rejectedBy: map[string]map[string]string{}}
}

func (t *tracker) connected(node *corev3.Node, delta bool, envoy, routing string) {
	t.mu.Lock()
	ns := t.nodes[node.GetId()]
	if ns == nil {
		ns = &nodeState{types: map[string]*typeState{}}
		t.nodes[node.GetId()] = ns
	}
	ns.streams++
	t.mu.Unlock()
	t.log.Info("envoy connected", "node", node.GetId(), "instance", node.GetCluster(), "delta", delta, "envoy_version", envoy, "http_routing", routing)
}

func (t *tracker) disconnected(node *corev3.Node) {
	t.mu.Lock()
	ns := t.nodes[node.GetId()]
	last := false
	if ns != nil {
		ns.streams--
		if ns.streams <= 0 {
			delete(t.nodes, node.GetId())
			last = true
		}
	}
	t.mu.Unlock()
	if !last {
		return
	}
	if t.status != nil {
		t.status.RemoveNode(node.GetId())
	}
	t.log.Info("envoy disconnected", "node", node.GetId(), "instance", node.GetCluster())
}

// rejected returns the last version of a feed a node rejected.
func (t *tracker) rejected(nodeID, feed string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rejectedBy[nodeID][feed]
}

// answer records an ACK or a NACK.
func (t *tracker) answer(a answer) {
	id, inst := a.node.GetId(), a.node.GetCluster()
	rev, _ := t.revision(inst, a.typeURL, a.version)
	ev := Event{Nack: a.nack, Delta: a.delta, NodeID: id, Instance: inst, TypeURL: a.typeURL, Version: a.version, Revision: rev, Error: a.err}

	t.mu.Lock()
	ns := t.nodes[id]
	if ns == nil {
		ns = &nodeState{types: map[string]*typeState{}}
		t.nodes[id] = ns
	}
	ts := ns.types[a.typeURL]
	if ts == nil {
		ts = &typeState{}
		ns.types[a.typeURL] = ts
	}
	var logNack bool
	var suppressed int
	if a.nack {
		if a.lastGood != "" {
			ts.acked = a.lastGood
		}
		ts.nacked = a.version
		ts.nack = fmt.Sprintf("%s rejected: %s", t.describe(inst, a.typeURL, a.version), a.err)
		t.remember(id, a.feed, a.version)
		if now := t.opts.Now(); now.Sub(ts.lastLog) >= t.opts.NackLogInterval {
			logNack, suppressed = true, ts.suppressed
			ts.lastLog, ts.suppressed = now, 0
		} else {
			ts.suppressed++
		}
	} else {
		if a.version != ts.acked && a.version != ts.nacked {
			ts.nack = ""
		}
		ts.acked = a.version
	}
	ns2 := live.NodeStatus{NodeID: id, Cluster: inst, TypeURL: a.typeURL, AckedVersion: t.describe(inst, a.typeURL, ts.acked), LastNack: ts.nack, LastSeen: t.opts.Now()}
	t.mu.Unlock()

	if t.status != nil {
		t.status.UpdateNode(ns2)
	}
	if a.nack {
		t.m.nacks.WithLabelValues(a.typeURL).Inc()
		if logNack {
			t.log.Warn("envoy rejected configuration", "node", id, "instance", inst, "type", a.typeURL, "version", a.version, "revision", rev,
				"error", a.err, "rejections_not_logged", suppressed)
		}
	} else {
		t.m.acks.WithLabelValues(a.typeURL).Inc()
		t.m.ackDelay.Observe(a.rtt.Seconds())
		t.log.Debug("envoy accepted configuration", "node", id, "instance", inst, "type", a.typeURL, "version", a.version, "revision", rev)
	}
	if t.opts.Observe != nil {
		t.opts.Observe(ev)
	}
}

// remember records a rejected version. Callers hold t.mu.
func (t *tracker) remember(nodeID, feed, version string) {
	m := t.rejectedBy[nodeID]
	if m == nil {
		if len(t.rejectedBy) >= maxRejected {
			for k := range t.rejectedBy {
				if t.nodes[k] == nil {
					delete(t.rejectedBy, k)
					break
				}
			}
		}
		m = map[string]string{}
		t.rejectedBy[nodeID] = m
	}
	m[feed] = version
}

func (t *tracker) revision(instance, typeURL, version string) (int64, bool) {
	if t.cache == nil || version == "" {
		return 0, false
	}
	return t.cache.Revision(instance, typeURL, version)
}

// describe renders a version with the etcd revision it carries.
func (t *tracker) describe(instance, typeURL, version string) string {
	if version == "" {
		return ""
	}
	if rev, ok := t.revision(instance, typeURL, version); ok {
		return fmt.Sprintf("rev=%d version=%s", rev, version)
	}
	return "version=" + version
}
