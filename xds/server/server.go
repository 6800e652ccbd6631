// Package server is apigw's xDS gRPC server: ADS (SotW and delta) and the
// per-type discovery services over a snapshot.Cache. Its callbacks report
// each Envoy's ACKs and NACKs into model.Status, with the etcd revision
// of the version concerned.
package server

import (
	"context"
	"log/slog"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	sotwv3 "github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/xds/snapshot"
)

// RevisionLookup maps a version sent to an instance's Envoys back to the
// etcd revision it carries; snapshot.Cache implements it.
type RevisionLookup interface {
	Revision(instance, typeURL, version string) (int64, bool)
}

// Options configure a Server.
type Options struct {
	// Now is the clock of NodeStatus.LastSeen (default time.Now).
	Now func() time.Time
	// Observe, when set, is called after each ACK or NACK is recorded.
	Observe func(Event)
	// Registerer, when set, receives the server's metrics.
	Registerer prometheus.Registerer
}

// Event is one ACK or NACK of an Envoy.
type Event struct {
	// Nack is true for a rejection.
	Nack bool
	// Delta is true on delta streams.
	Delta                     bool
	NodeID, Instance, TypeURL string
	Version                   string
	Revision                  int64
	Error                     string
}

// Server serves xDS to Envoys.
type Server struct {
	xds serverv3.Server
	cb  *callbacks
}

// New returns a server over cache. ACKs and NACKs are recorded in status;
// ctx bounds every stream.
func New(ctx context.Context, cache cachev3.Cache, status *model.Status, logger *slog.Logger, opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := logger.With("component", "xds-server")
	revs, _ := cache.(RevisionLookup)
	cb := newCallbacks(log, status, revs, opts)
	xds := serverv3.NewServer(ctx, cache, cb, sotwv3.WithOrderedADS(), sotwv3.WithLogger(snapshot.Logger(log)))
	return &Server{xds: xds, cb: cb}
}

// Register adds the aggregated (ADS) and per-type discovery services to a
// gRPC server.
func (s *Server) Register(g *grpc.Server) {
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, s.xds)
	clusterservice.RegisterClusterDiscoveryServiceServer(g, s.xds)
	endpointservice.RegisterEndpointDiscoveryServiceServer(g, s.xds)
	listenerservice.RegisterListenerDiscoveryServiceServer(g, s.xds)
	routeservice.RegisterRouteDiscoveryServiceServer(g, s.xds)
	secretservice.RegisterSecretDiscoveryServiceServer(g, s.xds)
}

// GRPCOptions are the gRPC server settings for xDS: Envoy multiplexes all
// its streams over one connection and keeps it open for good.
func GRPCOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxConcurrentStreams(1 << 20),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 30 * time.Second, PermitWithoutStream: true}),
	}
}
