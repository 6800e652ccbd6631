package server

import (
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/apigw/apigw/internal/recovery"
	"github.com/apigw/apigw/internal/tlsfiles"
	"github.com/apigw/apigw/model/admin"
)

// newGRPCServer returns a gRPC server with the keepalive settings Envoy's
// long-lived streams need, health and reflection registered.
func newGRPCServer(opts ...grpc.ServerOption) (*grpc.Server, *health.Server) {
	base := []grpc.ServerOption{
		grpc.MaxConcurrentStreams(1_000_000),
		grpc.MaxRecvMsgSize(64 << 20),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 30 * time.Second, PermitWithoutStream: true}),
	}
	s := grpc.NewServer(append(base, opts...)...)
	h := health.NewServer()
	healthpb.RegisterHealthServer(s, h)
	reflection.Register(s)
	return s, h
}

// newServer returns the gRPC server of a component; panic recovery comes
// first so that it also covers the other interceptors.
func (s service) newServer(rec *recovery.Recoverer) (*grpc.Server, *health.Server) {
	return newGRPCServer(append(rec.ServerOptions(s.name), s.opts...)...)
}

// adminServerOptions returns the TLS and token options of the admin API.
func adminServerOptions(cfg *Config, log *slog.Logger) ([]grpc.ServerOption, error) {
	var opts []grpc.ServerOption
	if cfg.AdminTLSCert != "" {
		files := tlsfiles.Files{Cert: cfg.AdminTLSCert, Key: cfg.AdminTLSKey, ClientCA: cfg.AdminClientCAFile}
		creds, err := tlsfiles.NewServer(files, log.With("component", CompAdmin))
		if err != nil {
			return nil, fmt.Errorf("admin TLS: %w", err)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(creds.Config())))
	}
	if cfg.AdminToken != "" {
		u, s := admin.TokenAuth(cfg.AdminToken)
		opts = append(opts, grpc.ChainUnaryInterceptor(u), grpc.ChainStreamInterceptor(s))
	}
	return opts, nil
}
