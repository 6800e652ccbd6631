// Package recovery turns a panic in a gRPC handler into a codes.Internal
// error for that one call, with a log line carrying the stack and a
// Prometheus counter, so that a bug in one request never takes down the
// process and every other server with it.
package recovery

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Recoverer builds the interceptors of the gRPC servers of one process; they
// share one counter, apigw_grpc_panics_total{server,method}.
type Recoverer struct {
	log    *slog.Logger
	panics *prometheus.CounterVec
}

// New returns a Recoverer logging to log and registering its counter on reg
// when reg is not nil.
func New(log *slog.Logger, reg prometheus.Registerer) *Recoverer {
	r := &Recoverer{log: log, panics: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "apigw_grpc_panics_total",
		Help: "Panics recovered in gRPC handlers, answered with INTERNAL, by server and method.",
	}, []string{"server", "method"})}
	if reg != nil {
		reg.MustRegister(r.panics)
	}
	return r
}

// ServerOptions returns the unary and stream interceptors for the server
// named server (admin, xds, extauth, ratelimit). Pass them before any other
// interceptor so that panics in those are recovered too.
func (r *Recoverer) ServerOptions(server string) []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(r.Unary(server)), grpc.ChainStreamInterceptor(r.Stream(server))}
}

// Unary recovers panics of unary handlers.
func (r *Recoverer) Unary(server string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				resp, err = nil, r.recovered(ctx, server, info.FullMethod, p)
			}
		}()
		return h(ctx, req)
	}
}

// Stream recovers panics of stream handlers.
func (r *Recoverer) Stream(server string) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = r.recovered(ss.Context(), server, info.FullMethod, p)
			}
		}()
		return h(srv, ss)
	}
}

func (r *Recoverer) recovered(ctx context.Context, server, method string, p any) error {
	r.panics.WithLabelValues(server, method).Inc()
	r.log.ErrorContext(ctx, "panic in gRPC handler recovered; the call fails with INTERNAL",
		"server", server, "method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return status.Errorf(codes.Internal, "%s: internal error (a bug in apigw; see its log)", method)
}
