package loadtest

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/apigw/apigw/internal/grpcopts"
)

// ServerOptions are the options apigw's binary gives its data-plane gRPC
// servers: those of every server (cmd/apigw/server) and grpcopts.DataPlane.
func ServerOptions() []grpc.ServerOption {
	return append([]grpc.ServerOption{
		grpc.MaxConcurrentStreams(1_000_000),
		grpc.MaxRecvMsgSize(64 << 20),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 30 * time.Second, PermitWithoutStream: true}),
	}, grpcopts.DataPlane()...)
}
