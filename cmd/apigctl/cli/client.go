package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// bearer sends the admin token with every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

func dial(g *globals) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{}
	if g.tls || g.caFile != "" || g.insecure || g.certFile != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: g.insecure} //nolint:gosec // explicit flag
		if g.caFile != "" {
			pem, err := os.ReadFile(g.caFile)
			if err != nil {
				return nil, err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificates", g.caFile)
			}
			cfg.RootCAs = pool
		}
		if g.certFile != "" || g.keyFile != "" {
			pair, err := tls.LoadX509KeyPair(g.certFile, g.keyFile)
			if err != nil {
				return nil, fmt.Errorf("--client-certificate/--client-key: %w", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if g.token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(g.token)))
	}
	conn, err := grpc.NewClient(g.server, opts...)
	if err != nil {
		return nil, fmt.Errorf("admin API %s: %w", g.server, err)
	}
	return conn, nil
}
