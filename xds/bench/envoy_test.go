package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// envoy plays one Envoy on one ADS stream (SotW or delta) the way Envoy
// subscribes: clusters and listeners (wildcard), then what they name —
// the scoped routes (wildcard) and the route configurations their scopes
// name, or the single route configuration, the HTTPS chains' route
// configurations and secrets, the endpoints of EDS clusters. It ACKs
// what it can decode and NACKs what it cannot. It reads responses as a
// stream (gRPC over HTTP/2 with small flow-control windows), so its
// memory does not grow with the size of the responses: a thousand of
// them fit in the benchmark process next to each other. A client
// decodes only the names it needs to follow the protocol (leanDecode),
// unless it is one of the few that decode and validate everything
// (full; decode_test.go says why).
type envoy struct {
	id     string
	delta  bool
	full   bool
	node   *corev3.Node
	marker func() string
	// onMarker is called when a route configuration containing the
	// current marker arrives.
	onMarker func(*envoy, time.Time)

	tr   *http.Transport
	out  *io.PipeWriter
	wmu  sync.Mutex
	subs map[string]*esub // receive goroutine only

	bytes    atomic.Int64 // payload bytes received
	synced   chan struct{}
	syncedAt atomic.Int64 // unix nanos
	done     chan struct{}
	err      error
	nacks    atomic.Int64
	nacked   atomic.Pointer[string] // why the last NACK
}

// esub is the client's state of one type.
type esub struct {
	names   []string // nil: wildcard
	version string
	nonce   string
	known   map[string]bool   // resources received (delta: held)
	scopes  map[string]string // SRDS: scope → route configuration
	acked   bool
}

const adsPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/"

// dialEnvoy opens the stream and subscribes; responses are handled until
// ctx ends.
// A full client decodes every resource into its Envoy message and
// validates it (fullDecode).
func dialEnvoy(ctx context.Context, addr string, node *corev3.Node, delta, full bool, marker func() string, onMarker func(*envoy, time.Time)) (*envoy, error) {
	tr := &http.Transport{Protocols: new(http.Protocols), HTTP2: &http.HTTP2Config{MaxReceiveBufferPerStream: 256 << 10, MaxReceiveBufferPerConnection: 512 << 10}}
	tr.Protocols.SetUnencryptedHTTP2(true)
	pr, pw := io.Pipe()
	method := "StreamAggregatedResources"
	if delta {
		method = "DeltaAggregatedResources"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+adsPath+method, pr)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	e := &envoy{id: node.Id, delta: delta, full: full, node: node, marker: marker, onMarker: onMarker, tr: tr, out: pw,
		subs: map[string]*esub{}, synced: make(chan struct{}), done: make(chan struct{})}
	// The first requests go out before the response headers, which gRPC
	// sends with the first response.
	for _, t := range []string{resource.ClusterType, resource.ListenerType} {
		e.subs[t] = &esub{known: map[string]bool{}}
	}
	go func() {
		defer close(e.done)
		defer tr.CloseIdleConnections()
		resp, err := tr.RoundTrip(req)
		if err != nil {
			e.err = err
			return
		}
		defer resp.Body.Close()
		e.err = e.read(resp)
	}()
	first := true
	for _, t := range []string{resource.ClusterType, resource.ListenerType} {
		if err := e.request(t, first, nil); err != nil {
			return nil, err
		}
		first = false
	}
	return e, nil
}

// close ends the stream.
func (e *envoy) close() {
	e.out.Close()
	e.tr.CloseIdleConnections()
}

// send writes one request as a gRPC message.
func (e *envoy) send(m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	frame := make([]byte, 5+len(b))
	binary.BigEndian.PutUint32(frame[1:5], uint32(len(b)))
	copy(frame[5:], b)
	e.wmu.Lock()
	defer e.wmu.Unlock()
	_, err = e.out.Write(frame)
	return err
}

// request sends the request of a type: an ACK (nack == nil) of the last
// response or a NACK, with the current subscription.
func (e *envoy) request(typeURL string, withNode bool, nack *statuspb.Status) error {
	s := e.subs[typeURL]
	var node *corev3.Node
	if withNode {
		node = e.node
	}
	if e.delta {
		return e.send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: typeURL, ResponseNonce: s.nonce, ErrorDetail: nack})
	}
	return e.send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typeURL, VersionInfo: s.version, ResponseNonce: s.nonce, ResourceNames: s.names, ErrorDetail: nack})
}

// subscribe sets the names of a named type (SotW: a request with the
// whole list; delta: the difference).
func (e *envoy) subscribe(typeURL string, names []string) error {
	slices.Sort(names)
	names = slices.Compact(names)
	s := e.subs[typeURL]
	if s != nil && slices.Equal(s.names, names) {
		return nil
	}
	if s == nil {
		if len(names) == 0 {
			return nil
		}
		s = &esub{known: map[string]bool{}}
		e.subs[typeURL] = s
	}
	old := s.names
	s.names = names
	if !e.delta {
		return e.request(typeURL, false, nil)
	}
	var add, drop []string
	for _, n := range names {
		if !slices.Contains(old, n) {
			add = append(add, n)
		}
	}
	for _, n := range old {
		if !slices.Contains(names, n) {
			drop = append(drop, n)
			delete(s.known, n)
		}
	}
	return e.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResourceNamesSubscribe: add, ResourceNamesUnsubscribe: drop})
}

// subscribeWildcard opens a wildcard subscription (scoped routes).
func (e *envoy) subscribeWildcard(typeURL string) error {
	if e.subs[typeURL] != nil {
		return nil
	}
	e.subs[typeURL] = &esub{known: map[string]bool{}, scopes: map[string]string{}}
	return e.request(typeURL, false, nil)
}

// response is what the client keeps of one response.
type response struct {
	typeURL, version, nonce string
	resources               []resourceInfo
	removed                 []string
	size                    int
}

type resourceInfo struct {
	name   string
	body   []byte // kept for the types the client decodes
	marker bool
}

func (e *envoy) read(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	br := bufio.NewReaderSize(resp.Body, 32<<10)
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("stream ended: grpc-status %s %s", resp.Trailer.Get("Grpc-Status"), resp.Trailer.Get("Grpc-Message"))
			}
			return err
		}
		n := int64(binary.BigEndian.Uint32(hdr[1:]))
		r := &limited{br: br, n: n}
		got, err := e.parse(r)
		if err != nil {
			return err
		}
		if err := r.discard(); err != nil {
			return err
		}
		got.size = int(n)
		e.bytes.Add(n)
		if err := e.handle(got); err != nil {
			return err
		}
	}
}

// parse reads a DiscoveryResponse or DeltaDiscoveryResponse as a stream.
func (e *envoy) parse(r *limited) (*response, error) {
	out := &response{}
	marker := []byte(e.marker())
	for r.n > 0 {
		num, typ, err := r.tag()
		if err != nil {
			return nil, err
		}
		switch {
		case typ == protowire.BytesType && num == 2:
			l, err := r.varint()
			if err != nil {
				return nil, err
			}
			ri, err := e.parseResource(&limited{br: r.br, n: int64(l)}, e.delta, marker)
			if err != nil {
				return nil, err
			}
			r.n -= int64(l)
			out.resources = append(out.resources, ri)
		case typ == protowire.BytesType && (num == 1 || num == 4 || num == 5 || (e.delta && num == 6)):
			s, err := r.str()
			if err != nil {
				return nil, err
			}
			switch num {
			case 1:
				out.version = s
			case 4:
				out.typeURL = s
			case 5:
				out.nonce = s
			case 6:
				out.removed = append(out.removed, s)
			}
		default:
			if err := r.skip(typ); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// parseResource reads an Any (SotW) or a Resource (delta): its name and,
// for the types the client decodes, its value. A lean client reads
// route configurations as they stream by, for their name and the
// marker, and skips endpoints and secrets.
func (e *envoy) parseResource(r *limited, delta bool, marker []byte) (resourceInfo, error) {
	var ri resourceInfo
	if delta {
		for r.n > 0 {
			num, typ, err := r.tag()
			if err != nil {
				return ri, err
			}
			switch {
			case typ == protowire.BytesType && num == 3:
				if ri.name, err = r.str(); err != nil {
					return ri, err
				}
			case typ == protowire.BytesType && num == 2:
				l, err := r.varint()
				if err != nil {
					return ri, err
				}
				inner, err := e.parseResource(&limited{br: r.br, n: int64(l)}, false, marker)
				if err != nil {
					return ri, err
				}
				r.n -= int64(l)
				ri.body, ri.marker = inner.body, inner.marker
			default:
				if err := r.skip(typ); err != nil {
					return ri, err
				}
			}
		}
		return ri, nil
	}
	typeURL := ""
	for r.n > 0 {
		num, typ, err := r.tag()
		if err != nil {
			return ri, err
		}
		switch {
		case typ == protowire.BytesType && num == 1:
			if typeURL, err = r.str(); err != nil {
				return ri, err
			}
		case typ == protowire.BytesType && num == 2:
			l, err := r.varint()
			if err != nil {
				return ri, err
			}
			v := &limited{br: r.br, n: int64(l)}
			switch {
			case e.full || leanType(typeURL):
				ri.body = make([]byte, l)
				if _, err := io.ReadFull(v, ri.body); err != nil {
					return ri, err
				}
				ri.marker = typeURL == resource.RouteType && len(marker) > 0 && bytes.Contains(ri.body, marker)
			case typeURL == resource.RouteType:
				// The name is the first field of a RouteConfiguration.
				if v.n > 0 {
					num, typ, err := v.tag()
					if err != nil {
						return ri, err
					}
					if num == 1 && typ == protowire.BytesType {
						if ri.name, err = v.str(); err != nil {
							return ri, err
						}
					} else if err := v.skip(typ); err != nil {
						return ri, err
					}
				}
				if ri.marker, err = v.scan(marker); err != nil {
					return ri, err
				}
			default:
				if err := v.discard(); err != nil {
					return ri, err
				}
			}
			r.n -= int64(l)
		default:
			if err := r.skip(typ); err != nil {
				return ri, err
			}
		}
	}
	return ri, nil
}

// handle applies a response like Envoy: decode, follow references,
// ACK or NACK.
func (e *envoy) handle(resp *response) error {
	now := time.Now()
	s := e.subs[resp.typeURL]
	if s == nil {
		return fmt.Errorf("%s: response of type %s never requested", e.id, resp.typeURL)
	}
	s.nonce = resp.nonce
	if err := e.apply(resp, s); err != nil {
		e.nacks.Add(1)
		why := err.Error()
		e.nacked.Store(&why)
		return e.request(resp.typeURL, false, &statuspb.Status{Code: 3, Message: err.Error()})
	}
	s.version = resp.version
	for _, r := range resp.resources {
		if r.marker && e.onMarker != nil {
			e.onMarker(e, now)
			break
		}
	}
	if err := e.request(resp.typeURL, false, nil); err != nil {
		return err
	}
	s.acked = true
	e.checkSynced()
	return nil
}

// decode returns what the client takes from a resource: everything
// (decoded and validated) for a full client, the names for the others.
func (e *envoy) decode(typeURL string, r resourceInfo) (decoded, error) {
	var d decoded
	var err error
	switch {
	case e.full:
		d, err = fullDecode(typeURL, r.body)
		if err == nil && r.name != "" && d.name != r.name {
			err = fmt.Errorf("resource %q holds %q", r.name, d.name)
		}
	case leanType(typeURL):
		d, err = leanDecode(typeURL, r.body)
	default:
		d.name = r.name
	}
	if err == nil && d.name == "" && (e.full || typeURL != resource.EndpointType && typeURL != resource.SecretType) {
		err = errNoName
	}
	return d, err
}

// apply decodes a response and updates the subscriptions it drives.
func (e *envoy) apply(resp *response, s *esub) error {
	full := !e.delta && (resp.typeURL == resource.ListenerType || resp.typeURL == resource.ClusterType || resp.typeURL == resource.ScopedRouteType)
	if full {
		clear(s.known)
		clear(s.scopes)
	}
	for _, n := range resp.removed {
		delete(s.known, n)
		delete(s.scopes, n)
	}
	var eds, rds, sds []string
	scoped := false
	for _, r := range resp.resources {
		d, err := e.decode(resp.typeURL, r)
		if err != nil {
			return fmt.Errorf("%s: %w", resp.typeURL, err)
		}
		switch resp.typeURL {
		case resource.ClusterType, resource.ListenerType, resource.RouteType:
			s.known[d.name] = true
		case resource.ScopedRouteType:
			s.scopes[d.name] = d.routeConfig
		}
		if d.eds != "" {
			eds = append(eds, d.eds)
		}
		rds, sds = append(rds, d.rds...), append(sds, d.sds...)
		scoped = scoped || d.scoped
	}
	switch resp.typeURL {
	case resource.ClusterType:
		if len(eds) > 0 {
			return e.subscribe(resource.EndpointType, eds)
		}
	case resource.ListenerType:
		e.subs[resource.ListenerType].scopes = map[string]string{}
		for _, n := range rds {
			e.subs[resource.ListenerType].scopes[n] = n
		}
		if scoped {
			if err := e.subscribeWildcard(resource.ScopedRouteType); err != nil {
				return err
			}
		}
		if err := e.subscribe(resource.SecretType, sds); err != nil {
			return err
		}
		return e.subscribe(resource.RouteType, e.routeNames())
	case resource.ScopedRouteType:
		return e.subscribe(resource.RouteType, e.routeNames())
	}
	return nil
}

// routeNames are the route configurations the listeners and scopes use.
func (e *envoy) routeNames() []string {
	var out []string
	for _, n := range e.subs[resource.ListenerType].scopes {
		out = append(out, n)
	}
	if s := e.subs[resource.ScopedRouteType]; s != nil {
		for _, n := range s.scopes {
			out = append(out, n)
		}
	}
	return out
}

// checkSynced marks the client synced once it has listeners, clusters,
// the scopes (if used) and every route configuration it needs.
func (e *envoy) checkSynced() {
	if e.syncedAt.Load() != 0 {
		return
	}
	for _, t := range []string{resource.ClusterType, resource.ListenerType} {
		if !e.subs[t].acked {
			return
		}
	}
	if s := e.subs[resource.ScopedRouteType]; s != nil && !s.acked {
		return
	}
	rs := e.subs[resource.RouteType]
	for _, n := range e.routeNames() {
		if rs == nil || !rs.known[n] {
			return
		}
	}
	e.syncedAt.Store(time.Now().UnixNano())
	close(e.synced)
}

// limited reads at most n bytes of a message from br.
type limited struct {
	br *bufio.Reader
	n  int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.br.Read(p)
	l.n -= int64(k)
	return k, err
}

func (l *limited) ReadByte() (byte, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	b, err := l.br.ReadByte()
	if err == nil {
		l.n--
	}
	return b, err
}

func (l *limited) varint() (uint64, error) { return binary.ReadUvarint(l) }

func (l *limited) tag() (protowire.Number, protowire.Type, error) {
	v, err := l.varint()
	if err != nil {
		return 0, 0, err
	}
	num, typ := protowire.DecodeTag(v)
	if num <= 0 {
		return 0, 0, errors.New("bad protobuf tag")
	}
	return num, typ, nil
}

func (l *limited) str() (string, error) {
	n, err := l.varint()
	if err != nil {
		return "", err
	}
	b := make([]byte, n)
	_, err = io.ReadFull(l, b)
	return string(b), err
}

func (l *limited) skip(typ protowire.Type) error {
	var n uint64
	switch typ {
	case protowire.VarintType:
		_, err := l.varint()
		return err
	case protowire.Fixed32Type:
		n = 4
	case protowire.Fixed64Type:
		n = 8
	case protowire.BytesType:
		var err error
		if n, err = l.varint(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported wire type %d", typ)
	}
	if int64(n) > l.n {
		return io.ErrUnexpectedEOF
	}
	l.n -= int64(n)
	return (&limited{br: l.br, n: int64(n)}).discard()
}

// discard skips the rest, without copying it out of the reader's buffer.
func (l *limited) discard() error {
	for l.n > 0 {
		k, err := l.br.Discard(int(min(l.n, 1<<30)))
		l.n -= int64(k)
		if err != nil {
			return err
		}
	}
	return nil
}

// scan skips the rest and reports whether it contains marker, searching
// the reader's buffer in place.
func (l *limited) scan(marker []byte) (bool, error) {
	m := len(marker)
	if m == 0 {
		return false, l.discard()
	}
	found := false
	tail := make([]byte, 0, m)   // the last m-1 bytes before the chunk
	join := make([]byte, 0, 2*m) // tail and the chunk's first m-1 bytes
	for l.n > 0 && !found {
		chunk, err := l.br.Peek(int(min(l.n, int64(l.br.Size()))))
		if len(chunk) == 0 {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return false, err
		}
		join = append(append(join[:0], tail...), chunk[:min(len(chunk), m-1)]...)
		found = bytes.Contains(join, marker) || bytes.Contains(chunk, marker)
		tail = append(tail, chunk[max(0, len(chunk)-(m-1)):]...)
		if len(tail) > m-1 {
			tail = tail[:copy(tail, tail[len(tail)-(m-1):])]
		}
		if _, err := l.br.Discard(len(chunk)); err != nil {
			return false, err
		}
		l.n -= int64(len(chunk))
	}
	return found, l.discard()
}

// rejected describes the client's NACKs ("" when none).
func (e *envoy) rejected() string {
	if e.nacks.Load() == 0 {
		return ""
	}
	why := ""
	if p := e.nacked.Load(); p != nil {
		why = *p
	}
	return fmt.Sprintf("client %s (full decoding %v) rejected %d responses, the last: %s", e.id, e.full, e.nacks.Load(), why)
}
