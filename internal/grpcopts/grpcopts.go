// Package grpcopts holds the gRPC server options of the services Envoy
// calls on every request (ext_authz, rate limit).
package grpcopts

import (
	"runtime"

	"google.golang.org/grpc"
)

// Handler pools, per CPU: sized for the calls a service keeps waiting.
// ext_authz waits only for custom authorizers (mostly cached), the
// rate-limit service for Redis on every call. Calls beyond the pool run on
// goroutines of their own, as without one. A pool larger than needed
// costs at low load: idle handlers take calls in turn, so each call runs
// on the stack least recently used.
const (
	ExtAuthWorkersPerCPU   = 4
	RateLimitWorkersPerCPU = 32
)

// Flow-control windows: static, as Envoy's own (256 MiB by default).
const (
	streamWindow = 1 << 20
	connWindow   = 16 << 20
)

// DataPlane returns the options of a request-time gRPC server:
//
//   - handlers run on a pool of workersPerCPU long-lived goroutines per
//     CPU instead of a new goroutine per call: a new goroutine starts on
//     a small stack that every call then grows (copies) again, about a
//     quarter of the server's CPU time per call on a no-op service;
//   - flow-control windows are static: with dynamic windows the server
//     measures the bandwidth with a PING after every burst of data it
//     receives, one more frame to write, and one to read, per call at
//     low concurrency (calls are small: the window never reaches the
//     limit where the pings stop). When the handler takes a few
//     microseconds, that PING goes out alone, then the answer: the cause
//     of most of ext_authz's latency over a no-op server at one call in
//     flight.
func DataPlane(workersPerCPU int) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.NumStreamWorkers(uint32(workersPerCPU * runtime.GOMAXPROCS(0))),
		grpc.StaticStreamWindowSize(streamWindow),
		grpc.StaticConnWindowSize(connWindow),
	}
}
