package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"

	"github.com/apigw/apigw/model"
)

// maxNonces bounds the responses remembered per stream and type.
const maxNonces = 8

// callbacks track, per stream, which version each response nonce carried,
// so that the next request of the type is recognised as an ACK or a NACK
// of that version.
type callbacks struct {
	log    *slog.Logger
	status *model.Status
	revs   RevisionLookup
	opts   Options
	m      *metrics

	mu      sync.Mutex
	streams map[int64]*streamState
	nodes   map[string]int // open streams per node id
}

var _ serverv3.Callbacks = (*callbacks)(nil)

type streamState struct {
	node  *corev3.Node
	delta bool
	types map[string]*typeState
}

type typeState struct {
	sent   []sentResponse
	acked  string
	nack   string
	nacked string
}

type sentResponse struct{ nonce, version string }

func newCallbacks(log *slog.Logger, status *model.Status, revs RevisionLookup, opts Options) *callbacks {
	return &callbacks{log: log, status: status, revs: revs, opts: opts, m: newMetrics(opts.Registerer),
		streams: map[int64]*streamState{}, nodes: map[string]int{}}
}

func (c *callbacks) open(id int64, delta bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streams[id] = &streamState{delta: delta, types: map[string]*typeState{}}
	c.m.streams.Inc()
}

func (c *callbacks) closed(id int64, node *corev3.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[id]
	delete(c.streams, id)
	c.m.streams.Dec()
	if st == nil || st.node == nil {
		return
	}
	c.nodes[st.node.Id]--
	if c.nodes[st.node.Id] <= 0 {
		delete(c.nodes, st.node.Id)
		if c.status != nil {
			c.status.RemoveNode(st.node.Id)
		}
		c.log.Info("envoy disconnected", "node", st.node.Id, "instance", st.node.Cluster)
	}
}

// state returns a stream's state, recording its node on the first request.
// Callers hold c.mu.
func (c *callbacks) state(id int64, node *corev3.Node) *streamState {
	st := c.streams[id]
	if st == nil {
		st = &streamState{types: map[string]*typeState{}}
		c.streams[id] = st
	}
	if st.node == nil && node != nil {
		st.node = node
		c.nodes[node.Id]++
		c.log.Info("envoy connected", "node", node.Id, "instance", node.Cluster, "delta", st.delta)
	}
	return st
}

func (st *streamState) typ(url string) *typeState {
	ts := st.types[url]
	if ts == nil {
		ts = &typeState{}
		st.types[url] = ts
	}
	return ts
}

func (c *callbacks) sent(id int64, typeURL, nonce, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.state(id, nil).typ(typeURL)
	ts.sent = append(ts.sent, sentResponse{nonce, version})
	if len(ts.sent) > maxNonces {
		ts.sent = ts.sent[1:]
	}
}

// request handles a request that answers a response (nonce set): an ACK
// of its version, or a NACK when it carries an error. lastGood is the
// version a SotW client still runs ("" on delta streams).
func (c *callbacks) request(id int64, node *corev3.Node, typeURL, nonce, lastGood string, detailErr string, isNack bool) {
	c.mu.Lock()
	st := c.state(id, node)
	if st.node == nil || nonce == "" {
		c.mu.Unlock()
		return
	}
	ts := st.typ(typeURL)
	version := ""
	for _, s := range ts.sent {
		if s.nonce == nonce {
			version = s.version
		}
	}
	if version == "" && !isNack {
		version = lastGood
	}
	ev := Event{Nack: isNack, Delta: st.delta, NodeID: st.node.Id, Instance: st.node.Cluster, TypeURL: typeURL, Version: version}
	if isNack {
		if lastGood != "" {
			ts.acked = lastGood
		}
		ts.nacked = version
		ts.nack = fmt.Sprintf("%s rejected: %s", c.describe(st.node.Cluster, typeURL, version), detailErr)
		ev.Error = detailErr
		c.m.nacks.WithLabelValues(typeURL).Inc()
	} else {
		if version != "" && version != ts.acked && version != ts.nacked {
			ts.nack = ""
		}
		ts.acked = version
		c.m.acks.WithLabelValues(typeURL).Inc()
	}
	ev.Revision, _ = c.revision(st.node.Cluster, typeURL, version)
	ns := model.NodeStatus{
		NodeID: st.node.Id, Cluster: st.node.Cluster, TypeURL: typeURL,
		AckedVersion: c.describe(st.node.Cluster, typeURL, ts.acked), LastNack: ts.nack, LastSeen: c.opts.Now(),
	}
	c.mu.Unlock()
	if c.status != nil {
		c.status.UpdateNode(ns)
	}
	if isNack {
		c.log.Warn("envoy rejected configuration", "node", ev.NodeID, "instance", ev.Instance, "type", typeURL, "version", version, "revision", ev.Revision, "error", detailErr)
	} else {
		c.log.Debug("envoy accepted configuration", "node", ev.NodeID, "instance", ev.Instance, "type", typeURL, "version", version, "revision", ev.Revision)
	}
	if c.opts.Observe != nil {
		c.opts.Observe(ev)
	}
}

func (c *callbacks) revision(instance, typeURL, version string) (int64, bool) {
	if c.revs == nil || version == "" {
		return 0, false
	}
	return c.revs.Revision(instance, typeURL, version)
}

// describe renders a version with the etcd revision it carries.
func (c *callbacks) describe(instance, typeURL, version string) string {
	if version == "" {
		return ""
	}
	if rev, ok := c.revision(instance, typeURL, version); ok {
		return fmt.Sprintf("rev=%d version=%s", rev, version)
	}
	return "version=" + version
}

// OnStreamOpen implements the SotW callbacks.
func (c *callbacks) OnStreamOpen(_ context.Context, id int64, _ string) error {
	c.open(id, false)
	return nil
}

// OnStreamClosed implements the SotW callbacks.
func (c *callbacks) OnStreamClosed(id int64, node *corev3.Node) { c.closed(id, node) }

// OnStreamRequest implements the SotW callbacks.
func (c *callbacks) OnStreamRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	c.request(id, req.GetNode(), req.GetTypeUrl(), req.GetResponseNonce(), req.GetVersionInfo(), req.GetErrorDetail().GetMessage(), req.GetErrorDetail() != nil)
	return nil
}

// OnStreamResponse implements the SotW callbacks.
func (c *callbacks) OnStreamResponse(_ context.Context, id int64, req *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	c.sent(id, resp.GetTypeUrl(), resp.GetNonce(), resp.GetVersionInfo())
}

// OnDeltaStreamOpen implements the delta callbacks.
func (c *callbacks) OnDeltaStreamOpen(_ context.Context, id int64, _ string) error {
	c.open(id, true)
	return nil
}

// OnDeltaStreamClosed implements the delta callbacks.
func (c *callbacks) OnDeltaStreamClosed(id int64, node *corev3.Node) { c.closed(id, node) }

// OnStreamDeltaRequest implements the delta callbacks.
func (c *callbacks) OnStreamDeltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	c.request(id, req.GetNode(), req.GetTypeUrl(), req.GetResponseNonce(), "", req.GetErrorDetail().GetMessage(), req.GetErrorDetail() != nil)
	return nil
}

// OnStreamDeltaResponse implements the delta callbacks.
func (c *callbacks) OnStreamDeltaResponse(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	c.sent(id, resp.GetTypeUrl(), resp.GetNonce(), resp.GetSystemVersionInfo())
}

// OnFetchRequest rejects REST polling.
func (c *callbacks) OnFetchRequest(context.Context, *discoveryv3.DiscoveryRequest) error {
	return errors.New("apigw serves xDS over gRPC streams only")
}

// OnFetchResponse implements the REST callbacks.
func (c *callbacks) OnFetchResponse(*discoveryv3.DiscoveryRequest, *discoveryv3.DiscoveryResponse) {}
