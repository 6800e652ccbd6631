package xdsauth

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Options configure the interceptors.
type Options struct {
	// Policy decides which instances an identity may subscribe to
	// (default Convention).
	Policy Policy
	// RequireClientCert refuses streams without a verified client
	// certificate (apigw serves xDS over mTLS).
	RequireClientCert bool
	// Insecure is set when xDS listens beyond loopback without mTLS on
	// purpose (--xds-insecure): every such stream is logged as a warning.
	Insecure bool
	// Log receives refusals and warnings.
	Log *slog.Logger
}

// xdsMethod reports whether a gRPC method is one of Envoy's discovery
// services (ADS, CDS, LDS, RDS, SRDS, EDS, SDS, ... in SotW, delta and
// fetch forms). Other services on the port (health, reflection) are not
// touched.
func xdsMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/envoy.service.")
}

// Authorizer holds the interceptors' settings.
type Authorizer struct {
	opts Options
	log  *slog.Logger
}

// New returns an Authorizer.
func New(opts Options) *Authorizer {
	if opts.Policy == nil {
		opts.Policy = Convention{}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Authorizer{opts: opts, log: log.With("component", "xds-auth")}
}

// ServerOptions returns the interceptors as gRPC server options.
func (a *Authorizer) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ChainStreamInterceptor(a.Stream), grpc.ChainUnaryInterceptor(a.Unary)}
}

// Stream authorizes xDS streams.
func (a *Authorizer) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !xdsMethod(info.FullMethod) {
		return handler(srv, ss)
	}
	ctx := ss.Context()
	ids, authed := Identities(ctx)
	log := a.log.With("peer", peerAddr(ctx), "method", info.FullMethod)
	if err := a.admit(log, authed); err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &stream{ServerStream: ss, a: a, log: log, ctx: sctx, cancel: cancel, ids: ids, authed: authed}
	err := handler(srv, w)
	if denied := w.deniedErr(); denied != nil {
		return denied
	}
	return err
}

// Unary authorizes the fetch (unary) forms of the discovery services.
func (a *Authorizer) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !xdsMethod(info.FullMethod) {
		return handler(ctx, req)
	}
	ids, authed := Identities(ctx)
	log := a.log.With("peer", peerAddr(ctx), "method", info.FullMethod)
	if err := a.admit(log, authed); err != nil {
		return nil, err
	}
	s := &stream{a: a, log: log, ids: ids, authed: authed}
	if err := s.check(req); err != nil {
		return nil, err
	}
	resp, err := handler(ctx, req)
	if err != nil || authed {
		return resp, err
	}
	return s.filter(resp)
}

// admit applies the transport-level rules to a new stream.
func (a *Authorizer) admit(log *slog.Logger, authed bool) error {
	if authed {
		return nil
	}
	if a.opts.RequireClientCert {
		log.Warn("xDS stream refused: no verified client certificate")
		return status.Error(codes.Unauthenticated, "apigw: a client certificate signed by the configured client CA is required")
	}
	if a.opts.Insecure {
		log.Warn("xDS stream without mTLS (--xds-insecure): anyone who reaches this port gets the configuration; private keys are withheld")
	}
	return nil
}

// stream wraps an xDS stream: it checks the node of incoming requests and
// filters the responses of unauthenticated streams.
type stream struct {
	grpc.ServerStream
	a      *Authorizer
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	ids    []string
	authed bool

	mu       sync.Mutex
	first    bool // a request was received
	instance string
	denied   error
	warned   bool
}

func (s *stream) Context() context.Context { return s.ctx }

func (s *stream) deniedErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.denied
}

// RecvMsg passes a request on only once its node is allowed.
func (s *stream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := s.check(m); err != nil {
		s.mu.Lock()
		s.denied = err
		s.mu.Unlock()
		s.cancel()
		return err
	}
	return nil
}

// check enforces the node rules on one request.
func (s *stream) check(m any) error {
	var node *corev3.Node
	switch r := m.(type) {
	case *discoveryv3.DiscoveryRequest:
		node = r.GetNode()
	case *discoveryv3.DeltaDiscoveryRequest:
		node = r.GetNode()
	default:
		return status.Errorf(codes.Internal, "apigw: unexpected xDS request type %T", m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	first := !s.first
	s.first = true
	if node == nil {
		if first && s.authed {
			s.log.Warn("xDS stream refused: the first request carries no node")
			return status.Error(codes.InvalidArgument, "apigw: the first request of a stream must carry the node")
		}
		return nil
	}
	inst := node.GetCluster()
	if first {
		if s.authed && !s.a.opts.Policy.Allows(s.ids, inst) {
			s.log.Warn("xDS stream refused: identity not allowed this instance", "identities", s.ids, "node", node.GetId(), "instance", inst)
			return status.Errorf(codes.PermissionDenied, "apigw: client identity %v may not subscribe to instance %q (node.cluster)", s.ids, inst)
		}
		s.instance = inst
		return nil
	}
	if inst != s.instance {
		s.log.Warn("xDS stream refused: node.cluster changed", "node", node.GetId(), "instance", s.instance, "requested", inst)
		return status.Errorf(codes.PermissionDenied, "apigw: node.cluster changed from %q to %q on one stream", s.instance, inst)
	}
	return nil
}

// SendMsg withholds key material from unauthenticated streams.
func (s *stream) SendMsg(m any) error {
	if s.authed {
		return s.ServerStream.SendMsg(m)
	}
	out, err := s.filter(m)
	if err != nil {
		return err
	}
	return s.ServerStream.SendMsg(out)
}

// filter returns m without the Secret resources that carry key material.
func (s *stream) filter(m any) (any, error) {
	out, withheld, err := withholdKeys(m)
	if err != nil {
		s.log.Error("xDS response not sent to an unauthenticated stream", "err", err)
		return nil, status.Error(codes.Internal, "apigw: response withheld from an unauthenticated stream")
	}
	if len(withheld) > 0 {
		s.mu.Lock()
		warn := !s.warned
		s.warned = true
		s.mu.Unlock()
		if warn {
			s.log.Warn("secrets holding private keys withheld from an xDS stream without a client certificate: configure mTLS (see docs/xds.md)",
				"instance", s.instance, "secrets", withheld)
		}
	}
	return out, nil
}
