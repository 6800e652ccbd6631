package server

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/apigw/apigw/internal/certgen/certgentest"
	"github.com/apigw/apigw/internal/testutil"
)

// The admin guard: a blank token never turns authentication off, and
// beyond loopback TLS alone is not enough.
func TestAdminGuard(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	blank, empty, good := file("blank", " \n\t\n"), file("empty", ""), file("good", "s3cret\n")
	cert, key, ca := file("c.pem", "x"), file("k.pem", "x"), file("ca.pem", "x")
	public := []string{"--admin-addr", "0.0.0.0:18003"}
	refused := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"blank token flag", []string{"--admin-token", "   "}, nil, "--admin-token"},
		{"empty token flag", []string{"--admin-token="}, nil, "--admin-token"},
		{"blank token variable", nil, map[string]string{"APIGW_ADMIN_TOKEN": " \t "}, "APIGW_ADMIN_TOKEN"},
		{"blank token file", []string{"--admin-token-file", blank}, nil, "--admin-token-file"},
		{"empty token file", []string{"--admin-token-file", empty}, nil, "--admin-token-file"},
		{"missing token file", []string{"--admin-token-file", filepath.Join(dir, "nope")}, nil, "--admin-token-file"},
		{"blank token file, public", append([]string{"--admin-token-file", blank}, public...), nil, "empty or blank"},
		{"blank token flag, public", append([]string{"--admin-token", " "}, public...), nil, "empty or blank"},
		{"TLS alone, public", append([]string{"--admin-tls-cert-file", cert, "--admin-tls-key-file", key}, public...), nil, "not loopback"},
		{"nothing, public", public, nil, "not loopback"},
		{"client CA without TLS", []string{"--admin-client-ca-file", ca}, nil, "--admin-client-ca-file"},
	}
	for _, c := range refused {
		_, err := ParseConfig(c.args, env(c.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a refusal mentioning %s", c.name, err, c.want)
		}
	}
	accepted := []struct {
		name  string
		args  []string
		env   map[string]string
		token string
	}{
		{"token file, public", append([]string{"--admin-token-file", good}, public...), nil, "s3cret"},
		{"token variable, public", public, map[string]string{"APIGW_ADMIN_TOKEN": "s3cret"}, "s3cret"},
		{"TLS and client certificates, public", append([]string{"--admin-tls-cert-file", cert, "--admin-tls-key-file", key, "--admin-client-ca-file", ca}, public...), nil, ""},
		{"insecure on purpose", append([]string{"--admin-insecure"}, public...), nil, ""},
		{"loopback, no token", nil, nil, ""},
	}
	for _, c := range accepted {
		cfg, err := ParseConfig(c.args, env(c.env), io.Discard)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if cfg.AdminToken != c.token {
			t.Errorf("%s: token %q, want %q", c.name, cfg.AdminToken, c.token)
		}
	}
}

// With --admin-client-ca-file the admin API completes no TLS handshake
// without a client certificate of that CA.
func TestAdminClientCertificates(t *testing.T) {
	pki := certgentest.PKI(t)
	cfg, err := ParseConfig([]string{"--admin-addr", "0.0.0.0:0", "--admin-tls-cert-file", filepath.Join(pki, "apigw/tls.crt"),
		"--admin-tls-key-file", filepath.Join(pki, "apigw/tls.key"), "--admin-client-ca-file", filepath.Join(pki, "apigw/ca.crt")}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := adminServerOptions(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newGRPCServer(opts...)
	addr := testutil.ServeGRPC(t, s)
	check := func(certDir string) error {
		tc := certgentest.ClientTLS(t, pki, "localhost", certDir)
		conn := testutil.DialGRPC(t, addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	if err := check(""); err == nil {
		t.Error("a client without a certificate was served")
	}
	if err := check("envoy"); err != nil {
		t.Errorf("a client with a certificate of the CA: %v", err)
	}
}
