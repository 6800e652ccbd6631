// Package grpcopts holds the gRPC server options of the services Envoy
// calls on every request (ext_authz, rate limit).
package grpcopts

import (
	"runtime"

	"google.golang.org/grpc"
)

// workersPerCPU is the size of the handler pool per CPU: enough for the
// calls a service keeps in flight while they wait on Redis or a custom
// authorizer; more calls than that run on goroutines of their own, as
// without a pool.
const workersPerCPU = 64

// Flow-control windows: static, as Envoy's own (256 MiB by default).
const (
	streamWindow = 1 << 20
	connWindow   = 16 << 20
)

// DataPlane returns the options of a request-time gRPC server:
//
//   - handlers run on a pool of long-lived goroutines instead of a new
//     goroutine per call: a new goroutine starts on a small stack that
//     every call then grows (copies) again, about a quarter of the
//     server's CPU time per call on a no-op service;
//   - flow-control windows are static: with dynamic windows the server
//     measures the bandwidth with a PING after every burst of data it
//     receives, one more frame to write and one to read per call at low
//     concurrency (calls are small: the window never reaches its limit,
//     where the pings stop).
func DataPlane() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.NumStreamWorkers(uint32(workersPerCPU * runtime.GOMAXPROCS(0))),
		grpc.StaticStreamWindowSize(streamWindow),
		grpc.StaticConnWindowSize(connWindow),
	}
}
