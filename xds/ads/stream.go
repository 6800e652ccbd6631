package ads

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/xds/xdscache"
)

// stream is one xDS stream (ADS, or one type's service when fixedType
// is set), SotW or delta.
type stream struct {
	s         *Server
	ctx       context.Context
	delta     bool
	fixedType string
	ss        grpc.ServerStream

	node   *corev3.Node
	inst   *xdscache.Instance
	single bool // served the single-RouteConfiguration listeners
	wake   chan struct{}
	subs   map[string]*sub
}

// sub is a stream's state for one resource type: what the Envoy
// subscribed to and what it was sent. That is all a stream keeps.
type sub struct {
	typeURL, feed string
	// wildcard: every resource of the type; legacy: no name was ever
	// given (the implicit wildcard of xDS).
	wildcard, legacy bool
	names            map[string]struct{}
	// sent is the version last sent (SotW, full-state wildcard types);
	// seqs the content last sent per name (other SotW subscriptions);
	// hashes the resource versions the client has (delta).
	sent   string
	seqs   map[string]uint64
	hashes map[string]string
	// reply: a response is due even if it has nothing new (the first
	// request of a type).
	reply bool
	// nonce and version of the last response; pending until the Envoy
	// answers it; answered is the last nonce whose ACK or NACK was
	// recorded.
	nonce, version string
	pending        bool
	answered       string
	sentAt         time.Time
}

func (s *Server) serve(ss grpc.ServerStream, delta bool, fixedType string) error {
	st := &stream{s: s, ctx: ss.Context(), delta: delta, fixedType: fixedType, ss: ss, wake: make(chan struct{}, 1), subs: map[string]*sub{}}
	s.m.streams.Inc()
	defer s.m.streams.Dec()
	reqs := make(chan proto.Message, 16)
	errc := make(chan error, 1)
	go st.receive(reqs, errc)
	defer func() {
		if st.node != nil {
			s.track.disconnected(st.node)
		}
	}()
	for {
		select {
		case <-st.ctx.Done():
			return nil
		case <-s.ctx.Done():
			return status.Error(codes.Unavailable, "apigw is shutting down")
		case err := <-errc:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case req := <-reqs:
			if err := st.handle(req); err != nil {
				return err
			}
		case <-st.wake:
		}
		if err := st.flush(); err != nil {
			return err
		}
	}
}

func (st *stream) receive(reqs chan<- proto.Message, errc chan<- error) {
	for {
		var req proto.Message = &discoveryv3.DiscoveryRequest{}
		if st.delta {
			req = &discoveryv3.DeltaDiscoveryRequest{}
		}
		if err := st.ss.RecvMsg(req); err != nil {
			errc <- err
			return
		}
		select {
		case reqs <- req:
		case <-st.ctx.Done():
			return
		}
	}
}

// start binds the stream to its Envoy's instance on the first request.
func (st *stream) start(node *corev3.Node) {
	st.node = node
	scoped, version := scopedRoutes(node)
	st.single = !scoped
	st.inst = st.s.cache.Instance(node.GetCluster())
	unwatch := st.inst.Watch(st.wake)
	context.AfterFunc(st.ctx, unwatch)
	routing := "scoped where configured"
	if st.single {
		routing = "single"
	}
	st.s.track.connected(node, st.delta, version, routing)
}

func (st *stream) handle(m proto.Message) error {
	var node *corev3.Node
	var typeURL string
	switch r := m.(type) {
	case *discoveryv3.DiscoveryRequest:
		node, typeURL = r.GetNode(), r.GetTypeUrl()
	case *discoveryv3.DeltaDiscoveryRequest:
		node, typeURL = r.GetNode(), r.GetTypeUrl()
	}
	if st.node == nil {
		if node == nil {
			return status.Error(codes.InvalidArgument, "the first xDS request of a stream must carry the node")
		}
		st.start(node)
	}
	if typeURL == "" {
		if st.fixedType == "" {
			return status.Error(codes.InvalidArgument, "type_url is required on ADS")
		}
		typeURL = st.fixedType
	}
	if st.fixedType != "" && typeURL != st.fixedType {
		return status.Errorf(codes.InvalidArgument, "type_url %s on the %s service", typeURL, st.fixedType)
	}
	if !xdscache.Served(typeURL) {
		st.s.log.Debug("request for a type apigw does not serve", "node", st.node.GetId(), "type", typeURL)
		return nil
	}
	if st.delta {
		st.handleDelta(m.(*discoveryv3.DeltaDiscoveryRequest), typeURL)
	} else {
		st.handleSotw(m.(*discoveryv3.DiscoveryRequest), typeURL)
	}
	return nil
}

func (st *stream) feedOf(typeURL string) string {
	if typeURL == resource.ListenerType && st.single {
		return xdscache.FeedSingleListeners
	}
	return typeURL
}

// flush sends, type by type in make-before-break order, what each
// subscription is due and has not been sent; a type waits for the answer
// to its previous response.
func (st *stream) flush() error {
	for _, t := range xdscache.Types() {
		sb := st.subs[t]
		if sb == nil || sb.pending {
			continue
		}
		cur := st.inst.Current(sb.feed)
		if cur == nil {
			continue // held: the instance has no resources yet
		}
		var w *wire
		var commit func()
		var err error
		if st.delta {
			w, commit, err = st.deltaResponse(sb, cur)
		} else {
			w, commit, err = st.sotwResponse(sb, cur)
		}
		if err != nil {
			return status.Errorf(codes.Internal, "encode %s: %v", t, err)
		}
		if w == nil {
			continue
		}
		if err := st.ss.SendMsg(w); err != nil {
			return err
		}
		commit()
		sb.nonce, sb.version, sb.pending, sb.reply, sb.sentAt = w.nonce, w.version, true, false, time.Now()
		st.s.m.sent(t, len(w.data), time.Since(cur.Installed))
	}
	return nil
}

// respond returns the response build makes for a stream in state key at
// version cur, shared with the other streams in the same state (unless
// it is the very response this stream got last: then a fresh one, so
// that its nonce differs).
func (st *stream) respond(sb *sub, cur *xdscache.Version, key string, build func(nonce string) (*wire, error)) (*wire, error) {
	v, shared, err := cur.Memo(key, func() (any, error) { return build(st.s.nonce()) })
	if err != nil {
		return nil, err
	}
	w := v.(*wire)
	if shared && w.nonce == sb.nonce {
		return build(st.s.nonce())
	}
	return w, nil
}

// record reports the answer to a stream's last response of a type once.
func (st *stream) record(sb *sub, lastGood string, errDetail string, nack bool) {
	if sb.answered == sb.nonce {
		return
	}
	sb.answered = sb.nonce
	st.s.track.answer(answer{
		node: st.node, delta: st.delta, typeURL: sb.typeURL, feed: sb.feed, version: sb.version,
		lastGood: lastGood, err: errDetail, nack: nack, rtt: time.Since(sb.sentAt),
	})
}

func sortedNames(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// memoKey identifies a response by its kind and resource names.
func memoKey(kind string, lists ...[]string) string {
	var b strings.Builder
	b.WriteString(kind)
	for _, l := range lists {
		b.WriteByte('|')
		for i, n := range l {
			if i > 0 {
				b.WriteByte(0)
			}
			b.WriteString(n)
		}
	}
	return b.String()
}
