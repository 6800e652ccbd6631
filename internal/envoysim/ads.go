package envoysim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// ADS is a state-of-the-world ADS client that subscribes and ACKs like
// Envoy: clusters and listeners (wildcard), then the endpoints, route
// configurations, scoped routes and secrets they reference. Invalid
// resources are NACKed and not applied.
type ADS struct {
	log    *slog.Logger
	node   *corev3.Node
	conn   *grpc.ClientConn
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	subs   map[string]*subscription // receive goroutine only

	mu      sync.Mutex
	cfg     *Config
	nacks   []string
	err     error
	changed chan struct{} // closed on every change, then replaced
}

type subscription struct {
	wildcard bool
	names    []string
	version  string
	nonce    string
}

// wildcardTypes are subscribed with no names; they carry full state.
var wildcardTypes = []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.ScopedRouteType}

// Node is the node the client connects as.
func (a *ADS) Node() *corev3.Node { return a.node }

// ConnectOption changes how Connect reaches the xDS server.
type ConnectOption func(*connectOptions)

type connectOptions struct{ tls *tls.Config }

// WithTLS connects over TLS with this configuration (for a bootstrap's
// transport socket, see UpstreamTLS); the default is plaintext.
func WithTLS(cfg *tls.Config) ConnectOption { return func(o *connectOptions) { o.tls = cfg } }

// Connect opens an ADS stream to addr as node and keeps it up to date
// until ctx ends.
func Connect(ctx context.Context, addr string, node *corev3.Node, log *slog.Logger, opts ...ConnectOption) (*ADS, error) {
	var o connectOptions
	for _, f := range opts {
		f(&o)
	}
	creds := insecure.NewCredentials()
	if o.tls != nil {
		creds = credentials.NewTLS(o.tls)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
	if err != nil {
		return nil, err
	}
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		conn.Close()
		return nil, err
	}
	a := &ADS{log: log.With("component", "envoysim.ads", "node", node.GetId()), node: node, conn: conn, stream: stream,
		subs: map[string]*subscription{}, cfg: newConfig(), changed: make(chan struct{})}
	for _, t := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		a.subs[t] = &subscription{wildcard: true}
		if err := a.send(t, nil); err != nil {
			conn.Close()
			return nil, err
		}
	}
	go a.run(ctx)
	return a, nil
}

// Config returns the configuration accepted so far.
func (a *ADS) Config() *Config {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg
}

// NACKs returns the errors of the responses rejected so far.
func (a *ADS) NACKs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.nacks)
}

// WaitFor waits until cond accepts the configuration and returns it. On
// timeout it returns cond's last error.
func (a *ADS) WaitFor(ctx context.Context, cond func(*Config) error) (*Config, error) {
	for {
		a.mu.Lock()
		cfg, ch, streamErr := a.cfg, a.changed, a.err
		a.mu.Unlock()
		err := cond(cfg)
		if err == nil {
			return cfg, nil
		}
		if streamErr != nil {
			return nil, fmt.Errorf("%w (ADS stream: %v)", err, streamErr)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (waited: %v)", err, ctx.Err())
		}
	}
}

// Close ends the stream.
func (a *ADS) Close() error { return a.conn.Close() }

func (a *ADS) send(typeURL string, nack *statuspb.Status) error {
	s := a.subs[typeURL]
	req := &discoveryv3.DiscoveryRequest{Node: a.node, TypeUrl: typeURL, VersionInfo: s.version, ResponseNonce: s.nonce, ErrorDetail: nack}
	if !s.wildcard {
		req.ResourceNames = s.names
	}
	return a.stream.Send(req)
}

func (a *ADS) run(ctx context.Context) {
	err := a.loop()
	if ctx.Err() == nil {
		a.log.Warn("ADS stream ended", "err", err)
	}
	a.mu.Lock()
	a.err = err
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

func (a *ADS) loop() error {
	for {
		resp, err := a.stream.Recv()
		if err != nil {
			return err
		}
		if err := a.handle(resp); err != nil {
			return err
		}
	}
}

func (a *ADS) handle(resp *discoveryv3.DiscoveryResponse) error {
	s := a.subs[resp.GetTypeUrl()]
	if s == nil {
		return fmt.Errorf("response of type %s that was never requested", resp.GetTypeUrl())
	}
	s.nonce = resp.GetNonce()
	got, err := decode(resp)
	if err != nil {
		a.log.Warn("NACK", "type", resp.GetTypeUrl(), "version", resp.GetVersionInfo(), "err", err)
		a.mu.Lock()
		a.nacks = append(a.nacks, fmt.Sprintf("%s %s: %v", resp.GetTypeUrl(), resp.GetVersionInfo(), err))
		close(a.changed)
		a.changed = make(chan struct{})
		a.mu.Unlock()
		return a.send(resp.GetTypeUrl(), &statuspb.Status{Code: int32(codes.InvalidArgument), Message: err.Error()})
	}
	s.version = resp.GetVersionInfo()
	a.mu.Lock()
	cfg := a.cfg.clone()
	apply(cfg, resp.GetTypeUrl(), got, slices.Contains(wildcardTypes, resp.GetTypeUrl()))
	cfg.Versions[resp.GetTypeUrl()] = resp.GetVersionInfo()
	a.mu.Unlock()
	if err := a.send(resp.GetTypeUrl(), nil); err != nil {
		return err
	}
	if err := a.resubscribe(cfg); err != nil {
		return err
	}
	a.prune(cfg)
	a.mu.Lock()
	a.cfg = cfg
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
	return nil
}

// decode unpacks and validates every resource of a response.
func decode(resp *discoveryv3.DiscoveryResponse) (map[string]proto.Message, error) {
	out := map[string]proto.Message{}
	var errs []error
	for _, res := range resp.GetResources() {
		if res.GetTypeUrl() == "type.googleapis.com/envoy.service.discovery.v3.Resource" {
			w := &discoveryv3.Resource{}
			if err := res.UnmarshalTo(w); err != nil {
				errs = append(errs, err)
				continue
			}
			res = w.GetResource()
		}
		m, ok := typeOf(res.GetTypeUrl())
		if !ok || res.GetTypeUrl() != resp.GetTypeUrl() {
			errs = append(errs, fmt.Errorf("resource of type %s in a %s response", res.GetTypeUrl(), resp.GetTypeUrl()))
			continue
		}
		if err := res.UnmarshalTo(m); err != nil {
			errs = append(errs, err)
			continue
		}
		name := resourceName(m)
		if err := ValidateDeep(m); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		out[name] = m
	}
	return out, errors.Join(errs...)
}

func resourceName(m proto.Message) string {
	if c, ok := m.(interface{ GetClusterName() string }); ok {
		return c.GetClusterName()
	}
	return m.(interface{ GetName() string }).GetName()
}

// apply stores the resources of a response: full state for wildcard
// types, an update by name for the others.
func apply(cfg *Config, typeURL string, got map[string]proto.Message, full bool) {
	switch typeURL {
	case resourcev3.ListenerType:
		store(cfg.Listeners, got, full)
	case resourcev3.ClusterType:
		store(cfg.Clusters, got, full)
	case resourcev3.EndpointType:
		store(cfg.Endpoints, got, full)
	case resourcev3.RouteType:
		store(cfg.Routes, got, full)
	case resourcev3.ScopedRouteType:
		store(cfg.Scopes, got, full)
	case resourcev3.SecretType:
		store(cfg.Secrets, got, full)
	}
}

func store[V proto.Message](dst map[string]V, got map[string]proto.Message, full bool) {
	if full {
		clear(dst)
	}
	for k, v := range got {
		dst[k] = v.(V)
	}
}

// resubscribe sends new subscriptions when the names referenced changed.
func (a *ADS) resubscribe(cfg *Config) error {
	refs := references(cfg)
	for _, t := range []string{resourcev3.EndpointType, resourcev3.RouteType, resourcev3.SecretType} {
		names := refs[t]
		s := a.subs[t]
		if s == nil {
			if len(names) == 0 {
				continue
			}
			s = &subscription{}
			a.subs[t] = s
		}
		if slices.Equal(s.names, names) || len(names) == 0 {
			continue
		}
		s.names = names
		if err := a.send(t, nil); err != nil {
			return err
		}
	}
	if _, ok := refs[resourcev3.ScopedRouteType]; ok && a.subs[resourcev3.ScopedRouteType] == nil {
		a.subs[resourcev3.ScopedRouteType] = &subscription{wildcard: true}
		return a.send(resourcev3.ScopedRouteType, nil)
	}
	return nil
}

// prune drops resources no longer subscribed.
func (a *ADS) prune(cfg *Config) {
	keep := func(t string) map[string]bool {
		m := map[string]bool{}
		if s := a.subs[t]; s != nil {
			for _, n := range s.names {
				m[n] = true
			}
		}
		return m
	}
	for name := range cfg.Endpoints {
		if !keep(resourcev3.EndpointType)[name] {
			delete(cfg.Endpoints, name)
		}
	}
	for name := range cfg.Routes {
		if !keep(resourcev3.RouteType)[name] {
			delete(cfg.Routes, name)
		}
	}
	for name := range cfg.Secrets {
		if !keep(resourcev3.SecretType)[name] {
			delete(cfg.Secrets, name)
		}
	}
}

// references returns, by type, the sorted names the configuration refers
// to (a ScopedRouteType key when some HCM uses scoped RDS).
func references(cfg *Config) map[string][]string {
	sets := map[string]map[string]bool{}
	add := func(t, n string) {
		if sets[t] == nil {
			sets[t] = map[string]bool{}
		}
		if n != "" {
			sets[t][n] = true
		}
	}
	for _, c := range cfg.Clusters {
		if c.GetType() == clusterv3.Cluster_EDS {
			n := c.GetEdsClusterConfig().GetServiceName()
			if n == "" {
				n = c.GetName()
			}
			add(resourcev3.EndpointType, n)
		}
		walkRefs(c, add)
	}
	for _, l := range cfg.Listeners {
		walkRefs(l, add)
	}
	for _, s := range cfg.Scopes {
		add(resourcev3.RouteType, s.GetRouteConfigurationName())
	}
	out := map[string][]string{}
	for t, set := range sets {
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		slices.Sort(names)
		out[t] = names
	}
	return out
}

// walkRefs finds RDS names, scoped RDS and SDS secret names anywhere in a
// resource, Any fields included.
func walkRefs(m proto.Message, add func(typeURL, name string)) {
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		switch v := m.Interface().(type) {
		case *anypb.Any:
			if inner, err := v.UnmarshalNew(); err == nil {
				walk(inner.ProtoReflect())
			}
			return
		case *hcmv3.Rds:
			add(resourcev3.RouteType, v.GetRouteConfigName())
		case *hcmv3.ScopedRds:
			add(resourcev3.ScopedRouteType, "")
		case *tlsv3.SdsSecretConfig:
			add(resourcev3.SecretType, v.GetName())
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
}
