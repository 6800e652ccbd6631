package loadtest

import (
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// ServerOptions are the options apigw's binary gives its data-plane gRPC
// servers.
func ServerOptions() []grpc.ServerOption {
	var extra []grpc.ServerOption
	if n, _ := strconv.Atoi(os.Getenv("XW")); n > 0 {
		extra = append(extra, grpc.NumStreamWorkers(uint32(n)))
	}
	return append(extra, []grpc.ServerOption{
		grpc.MaxConcurrentStreams(1_000_000),
		grpc.MaxRecvMsgSize(64 << 20),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 30 * time.Second, PermitWithoutStream: true}),
	}...)
}
