// Package certgentest makes, for tests, the certificates `apigw certs`
// makes and the TLS configurations that use them: apigw's server side and
// a client's (an Envoy, apigctl) that trusts the CA.
package certgentest

import (
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/certgen"
	"github.com/apigw/apigw/internal/tlsfiles"
)

// PKI generates in a new temporary directory a CA, apigw's server
// certificate and an Envoy client certificate per instance ("default"
// when none is named), in the layout of certgen, and returns the
// directory.
func PKI(t testing.TB, instances ...string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := certgen.Generate(certgen.Options{Dir: dir, Instances: instances}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ServerFiles are apigw's server certificate and key in pki, with the CA
// as the client CA.
func ServerFiles(pki string) tlsfiles.Files {
	dir := filepath.Join(pki, "apigw")
	return tlsfiles.Files{Cert: filepath.Join(dir, dataplane.TLSCertFile), Key: filepath.Join(dir, dataplane.TLSKeyFile),
		ClientCA: filepath.Join(dir, dataplane.TLSCAFile)}
}

// ServerTLS is apigw's server configuration from pki: its certificate,
// client certificates of the CA required.
func ServerTLS(t testing.TB, pki string) *tls.Config {
	t.Helper()
	s, err := tlsfiles.NewServer(ServerFiles(pki), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s.Config()
}

// ClientTLS is a client configuration that trusts pki's CA for
// serverName, offers HTTP/2 as gRPC clients do and presents the
// certificate in pki/certDir when certDir is set (certgen.EnvoySubdir of
// an instance).
func ClientTLS(t testing.TB, pki, serverName, certDir string) *tls.Config {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(pki, dataplane.TLSCAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := tlsfiles.Pool(ca)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2"}}
	if certDir != "" {
		pair, err := tls.LoadX509KeyPair(filepath.Join(pki, certDir, dataplane.TLSCertFile), filepath.Join(pki, certDir, dataplane.TLSKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}
