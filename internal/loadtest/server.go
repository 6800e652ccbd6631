package loadtest

import (
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/apigw/apigw/internal/grpcopts"
)

// DefaultsEnv, set to 1 in a child's environment, makes ServerOptions
// leave out grpcopts.DataPlane (a server with gRPC's defaults, to
// compare with).
const DefaultsEnv = "APIGW_LOADTEST_GRPC_DEFAULTS"

// ServerOptions are the options apigw's binary gives a data-plane gRPC
// server: those of every server (cmd/apigw/server) and
// grpcopts.DataPlane(workersPerCPU) (unless DefaultsEnv is set), but for
// the panic-recovery interceptors and mTLS.
func ServerOptions(workersPerCPU int) []grpc.ServerOption {
	base := []grpc.ServerOption{
		grpc.MaxConcurrentStreams(1_000_000),
		grpc.MaxRecvMsgSize(64 << 20),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 30 * time.Second, PermitWithoutStream: true}),
	}
	if os.Getenv(DefaultsEnv) == "1" {
		return base
	}
	return append(base, grpcopts.DataPlane(workersPerCPU)...)
}

// DialOptions are the options of a client shaped as Envoy's: one
// plaintext HTTP/2 connection with static flow-control windows of
// Envoy's default size (256 MiB), so no bandwidth-probing PINGs.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(256 << 20),
		grpc.WithInitialConnWindowSize(256 << 20),
	}
}
