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
	"google.golang.org/grpc/metadata"

	"github.com/apigw/apigw/model/admin/storehdr"
)

// bearer sends the admin token with every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

func dial(g *globals) (*grpc.ClientConn, error) {
	// Replies to large applies and lists exceed gRPC's default 4 MiB.
	opts := []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256 << 20))}
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
	opts = append(opts, grpc.WithChainUnaryInterceptor(staleWarning(g)))
	conn, err := grpc.NewClient(g.server, opts...)
	if err != nil {
		return nil, fmt.Errorf("admin API %s: %w", g.server, err)
	}
	return conn, nil
}

// staleWarning prints a warning when apigw answered a read from its last
// view of etcd because it cannot reach etcd (no quorum, unreachable).
func staleWarning(g *globals) grpc.UnaryClientInterceptor {
	warned := false
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		var md metadata.MD
		err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Header(&md))...)
		if v := md.Get(storehdr.Connected); len(v) == 1 && v[0] == "false" && !warned && g.streams.Err != nil {
			warned = true
			fmt.Fprintf(g.streams.Err, "warning: apigw cannot reach etcd (no quorum or unreachable) since %s; this is its last view of etcd, revision %s\n",
				first(md.Get(storehdr.Since)), first(md.Get(storehdr.Revision)))
		}
		return err
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return "?"
	}
	return v[0]
}
