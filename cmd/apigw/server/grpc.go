package server

import (
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/apigw/apigw/internal/recovery"
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
func adminServerOptions(cfg *Config) ([]grpc.ServerOption, error) {
	var opts []grpc.ServerOption
	if cfg.AdminTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.AdminTLSCert, cfg.AdminTLSKey)
		if err != nil {
			return nil, fmt.Errorf("admin TLS: %w", err)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})))
	}
	token := cfg.AdminToken
	if cfg.AdminTokenFile != "" {
		b, err := os.ReadFile(cfg.AdminTokenFile)
		if err != nil {
			return nil, fmt.Errorf("admin token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token != "" {
		u, s := admin.TokenAuth(token)
		opts = append(opts, grpc.ChainUnaryInterceptor(u), grpc.ChainStreamInterceptor(s))
	}
	return opts, nil
}
