// Package ads is apigw's xDS gRPC server: ADS (SotW and delta) and the
// per-type discovery services over an xdscache.Cache.
//
// What a connected Envoy costs is its subscription state: per resource
// type, the names it subscribed to and which version (or, for named
// resources, which content) it was last sent. Responses are assembled
// from the cache's shared encodings, and streams in the same state share
// one encoded response, written by gRPC without a copy (see GRPCOptions).
//
// The server records each Envoy's ACKs and NACKs into a NodeRecorder
// (live.Status) with the etcd revision of the version concerned. A version an Envoy rejected
// is never sent to it again: the stream waits for the next change.
package ads

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/xds/xdscache"
)

// Options configure a Server.
type Options struct {
	// Now is the clock of NodeStatus.LastSeen (default time.Now).
	Now func() time.Time
	// Observe, when set, is called after each ACK or NACK is recorded.
	Observe func(Event)
	// Registerer, when set, receives the server's metrics.
	Registerer prometheus.Registerer
	// NackLogInterval is the least time between two log lines about the
	// rejections of one Envoy and type (default 30s); the rejections in
	// between are counted in the next line.
	NackLogInterval time.Duration
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
	ctx    context.Context
	cache  *xdscache.Cache
	log    *slog.Logger
	track  *tracker
	m      *metrics
	nonces atomic.Uint64
}

// NodeRecorder is where the server records what each Envoy acknowledged
// or rejected (live.Status implements it).
type NodeRecorder interface {
	// UpdateNode records the state of a node for one resource type.
	UpdateNode(live.NodeStatus)
	// RemoveNode forgets a node (its last stream ended).
	RemoveNode(nodeID string)
}

// New returns a server over cache. ACKs and NACKs are recorded in status
// (nil: not recorded); ctx bounds every stream.
func New(ctx context.Context, cache *xdscache.Cache, status NodeRecorder, logger *slog.Logger, opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NackLogInterval <= 0 {
		opts.NackLogInterval = 30 * time.Second
	}
	log := logger.With("component", "xds-server")
	m := newMetrics(opts.Registerer)
	return &Server{ctx: ctx, cache: cache, log: log, m: m, track: newTracker(log, status, cache, opts, m)}
}

// Register adds the aggregated (ADS) and per-type discovery services to a
// gRPC server, which should be created with GRPCOptions (other options,
// such as interceptors, may be added).
func (s *Server) Register(g *grpc.Server) {
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, ads{s})
	clusterservice.RegisterClusterDiscoveryServiceServer(g, cds{s})
	endpointservice.RegisterEndpointDiscoveryServiceServer(g, eds{s})
	listenerservice.RegisterListenerDiscoveryServiceServer(g, lds{s})
	routeservice.RegisterRouteDiscoveryServiceServer(g, rds{s})
	routeservice.RegisterScopedRoutesDiscoveryServiceServer(g, srds{s})
	secretservice.RegisterSecretDiscoveryServiceServer(g, sds{s})
}

// GRPCOptions are the gRPC server settings for xDS: Envoy multiplexes all
// its streams over one connection and keeps it open for good, and the
// codec sends the shared encoded responses without copying them (any
// other message is encoded as usual).
func GRPCOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxConcurrentStreams(1 << 20),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 30 * time.Second, PermitWithoutStream: true}),
		// Connections share write buffers (gRPC's default since
		// SharedWriteBuffer was deprecated): an idle one holds none.
		grpc.ForceServerCodecV2(newCodec()),
	}
}

// nonce returns a nonce no other response of this server carries.
func (s *Server) nonce() string { return strconv.FormatUint(s.nonces.Add(1), 10) }
