package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/apigw/apigw/internal/certgen/certgentest"
	"github.com/apigw/apigw/internal/testutil"
)

// Beyond loopback, xDS, ext_authz and the rate-limit service need mTLS or
// their -insecure flag; on loopback (the default) they start as they are.
func TestPublicServicesNeedMTLS(t *testing.T) {
	tlsDir := filepath.Join(certgentest.PKI(t), "apigw")
	if _, err := ParseConfig(nil, env(nil), io.Discard); err != nil {
		t.Fatalf("defaults (loopback): %v", err)
	}
	for _, svc := range []string{"xds", "extauth", "ratelimit"} {
		public := []string{"--" + svc + "-addr", "0.0.0.0:1800"}
		_, err := ParseConfig(public, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--"+svc+"-insecure") || !strings.Contains(err.Error(), "not loopback") {
			t.Errorf("%s beyond loopback without mTLS: %v", svc, err)
		}
		if _, err := ParseConfig(append(public, "--"+svc+"-insecure"), env(nil), io.Discard); err != nil {
			t.Errorf("%s with --%s-insecure: %v", svc, svc, err)
		}
		c, err := ParseConfig(public, env(map[string]string{"APIGW_TLS_DIR": tlsDir}), io.Discard)
		if err != nil {
			t.Errorf("%s with APIGW_TLS_DIR: %v", svc, err)
			continue
		}
		for _, s := range c.tlsServices() {
			if s.tls.CertFile != filepath.Join(tlsDir, "tls.crt") || s.tls.ClientCAFile != filepath.Join(tlsDir, "ca.crt") {
				t.Errorf("--tls-dir must fill %s's files: %+v", s.flag, s.tls)
			}
		}
		_, err = ParseConfig(append(public, "--"+svc+"-tls-cert-file", "c.pem", "--"+svc+"-tls-key-file", "k.pem"), env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--"+svc+"-client-ca-file") {
			t.Errorf("%s: a server certificate without a client CA must be refused: %v", svc, err)
		}
	}
	// A component that does not run needs nothing.
	if _, err := ParseConfig([]string{"--components", "admin,xds", "--extauth-addr", "0.0.0.0:1"}, env(nil), io.Discard); err != nil {
		t.Errorf("extauth not running: %v", err)
	}
	if _, err := ParseConfig([]string{"--xds-identities-file", "ids"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--xds-identities-file") {
		t.Errorf("identities without mTLS: %v", err)
	}
	if _, err := ParseConfig([]string{"--envoy-service-tls", "maybe"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--envoy-service-tls") {
		t.Errorf("bad --envoy-service-tls: %v", err)
	}
}

// Envoy reaches ext_authz and the RLS over mTLS when apigw serves them so,
// or when they are elsewhere than on Envoy's loopback (auto).
func TestEnvoyServiceTLS(t *testing.T) {
	cases := []struct {
		args         []string
		extauth, rls bool
	}{
		{nil, false, false},
		{[]string{"--tls-dir", "/pki"}, true, true},
		{[]string{"--components", "admin,xds", "--tls-dir", "/pki"}, false, false}, // sidecar layout: the sidecar is on loopback
		{[]string{"--envoy-extauth-address", "apigw:18001"}, true, false},
		{[]string{"--tls-dir", "/pki", "--envoy-service-tls", "off"}, false, false},
		{[]string{"--envoy-service-tls", "on"}, true, true},
	}
	for _, c := range cases {
		cfg, err := ParseConfig(c.args, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		o := translateOptions(cfg)
		if o.ExtAuthzTLS != c.extauth || o.RateLimitTLS != c.rls {
			t.Errorf("%v: extauth %v rls %v, want %v %v", c.args, o.ExtAuthzTLS, o.RateLimitTLS, c.extauth, c.rls)
		}
	}
}

// --extauth-insecure (and --ratelimit-insecure) log every new connection.
func TestInsecureServiceWarnsOnEveryConnection(t *testing.T) {
	cfg, err := ParseConfig([]string{"--extauth-addr", "0.0.0.0:18001", "--extauth-insecure"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var logs testutil.Buffer
	opts, err := envoyServiceOptions(cfg, CompExtAuth, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "--extauth-insecure") {
		t.Errorf("no startup warning: %s", logs.String())
	}
	s, _ := newGRPCServer(opts...)
	addr := testutil.ServeGRPC(t, s)
	for range 2 {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "connection without mTLS"); n != 2 {
		t.Errorf("%d connection warnings for 2 connections:\n%s", n, logs.String())
	}
}
