package tlsfiles_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apigw/apigw/internal/certgen"
	"github.com/apigw/apigw/internal/certgen/certgentest"
	"github.com/apigw/apigw/internal/tlsfiles"
)

// clientConfig trusts dir's CA for apigw and presents the default Envoy's
// certificate when withCert.
func clientConfig(t *testing.T, dir string, withCert bool) *tls.Config {
	t.Helper()
	if withCert {
		return certgentest.ClientTLS(t, dir, "apigw", "envoy")
	}
	return certgentest.ClientTLS(t, dir, "apigw", "")
}

// serve accepts TLS connections with the server's configuration and
// completes each handshake.
func serve(t *testing.T, s *tlsfiles.Server) string {
	t.Helper()
	lis, err := tls.Listen("tcp", "127.0.0.1:0", s.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if tc, ok := c.(*tls.Conn); ok && tc.Handshake() == nil {
					_, _ = c.Write([]byte("ok"))
				}
			}()
		}
	}()
	return lis.Addr().String()
}

// dial completes a handshake and returns the server's leaf certificate.
func dial(addr string, cfg *tls.Config) (*x509.Certificate, error) {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// With TLS 1.3 a refused client certificate surfaces on the first read.
	if _, err := io.ReadFull(c, make([]byte, 2)); err != nil {
		return nil, err
	}
	return c.ConnectionState().PeerCertificates[0], nil
}

func TestClientCertificateRequired(t *testing.T) {
	dir := certgentest.PKI(t)
	s, err := tlsfiles.NewServer(certgentest.ServerFiles(dir), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s)
	if _, err := dial(addr, clientConfig(t, dir, false)); err == nil {
		t.Error("a client without a certificate completed a connection")
	}
	if _, err := dial(addr, clientConfig(t, dir, true)); err != nil {
		t.Errorf("a client with the Envoy certificate: %v", err)
	}
	// A certificate from another CA is refused too.
	other := certgentest.PKI(t)
	cfg := clientConfig(t, dir, false)
	pair, err := tls.LoadX509KeyPair(filepath.Join(other, "envoy/tls.crt"), filepath.Join(other, "envoy/tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{pair}
	if _, err := dial(addr, cfg); err == nil {
		t.Error("a client certificate of another CA was accepted")
	}
}

func TestCertificateRotationWithoutRestart(t *testing.T) {
	dir := certgentest.PKI(t)
	var logs bytes.Buffer
	s, err := tlsfiles.NewServer(certgentest.ServerFiles(dir), slog.New(slog.NewTextHandler(&logs, nil)), tlsfiles.WithInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s)
	first, err := dial(addr, clientConfig(t, dir, true))
	if err != nil {
		t.Fatal(err)
	}

	// A broken key (a half-finished copy): the previous pair stays.
	keyPath := filepath.Join(dir, "apigw/tls.key")
	good, _ := os.ReadFile(keyPath)
	if err := os.WriteFile(keyPath, good[:len(good)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	same, err := dial(addr, clientConfig(t, dir, true))
	if err != nil || same.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Fatalf("a broken key must keep the previous certificate: %v", err)
	}
	if !strings.Contains(logs.String(), "do not load") {
		t.Errorf("the broken files are not logged: %s", logs.String())
	}

	// A renewed certificate (same CA) is served on the next handshake.
	if err := os.RemoveAll(filepath.Join(dir, "apigw")); err != nil {
		t.Fatal(err)
	}
	if _, err := certgen.Generate(certgen.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	renewed, err := dial(addr, clientConfig(t, dir, true))
	if err != nil {
		t.Fatal(err)
	}
	if renewed.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Error("the renewed certificate was not picked up")
	}

	// A new client CA: clients of the new CA are accepted from then on.
	newClient := clientConfig(t, dir, false)
	other := certgentest.PKI(t)
	if err := copyFile(filepath.Join(other, "ca.crt"), filepath.Join(dir, "apigw/ca.crt")); err != nil {
		t.Fatal(err)
	}
	newClient.RootCAs = mustPool(t, filepath.Join(dir, "ca.crt"))
	envoyPair, err := tls.LoadX509KeyPair(filepath.Join(other, "envoy/tls.crt"), filepath.Join(other, "envoy/tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dial(addr, clientConfig(t, dir, true)); err == nil {
		t.Error("a client of the replaced CA is still accepted")
	}
	newClient.Certificates = []tls.Certificate{envoyPair}
	if _, err := dial(addr, newClient); err != nil {
		t.Errorf("a client of the new client CA is refused: %v", err)
	}
}

func TestInvalidFilesAreRefusedAtStart(t *testing.T) {
	dir := certgentest.PKI(t)
	f := certgentest.ServerFiles(dir)
	f.ClientCA = filepath.Join(dir, "apigw/tls.key") // no certificate in it
	if _, err := tlsfiles.NewServer(f, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "tls.key") {
		t.Errorf("a client CA without certificates: %v", err)
	}
	f = certgentest.ServerFiles(dir)
	f.Key = filepath.Join(dir, "missing.key")
	if _, err := tlsfiles.NewServer(f, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "missing.key") {
		t.Errorf("a missing key: %v", err)
	}
}

func mustPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tlsfiles.Pool(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}
