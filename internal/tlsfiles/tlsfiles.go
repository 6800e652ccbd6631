// Package tlsfiles builds TLS server configurations from PEM files and
// re-reads the files when they change, so that certificates rotate without
// a restart (a Kubernetes Secret update, cert-manager's renewal, or `apigw
// certs` run again).
//
// The files are checked on a new TLS handshake, at most once per interval:
// when any file's content differs from the last load, all of them are read
// and parsed again. A change that does not parse (a half-written key, a
// certificate that does not match its key) is logged and the previous
// configuration stays in force until the files are consistent again.
package tlsfiles

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Files are the PEM files of a TLS server.
type Files struct {
	// Cert and Key are the server's certificate chain and private key.
	Cert, Key string
	// ClientCA, when set, is the CA bundle that client certificates must
	// chain to; a client without a valid certificate is refused at the
	// handshake. Empty: clients are not asked for a certificate.
	ClientCA string
}

// DefaultInterval is how often, at most, the files are checked for changes.
const DefaultInterval = time.Second

// Server is a reloading TLS server configuration.
type Server struct {
	files    Files
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	raw     [3][]byte
	cfg     *tls.Config
	checked time.Time
	badRaw  [3][]byte // the last content that failed to load (logged once)
}

// Option tunes a Server.
type Option func(*Server)

// WithInterval sets how often, at most, the files are checked (0: on every
// handshake).
func WithInterval(d time.Duration) Option { return func(s *Server) { s.interval = d } }

// NewServer loads the files; an error names the file that is missing or
// invalid.
func NewServer(f Files, log *slog.Logger, opts ...Option) (*Server, error) {
	if f.Cert == "" || f.Key == "" {
		return nil, errors.New("a certificate and a key file are required")
	}
	s := &Server{files: f, log: log, interval: DefaultInterval, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	raw, err := s.read()
	if err != nil {
		return nil, err
	}
	cfg, err := s.build(raw)
	if err != nil {
		return nil, err
	}
	s.raw, s.cfg, s.checked = raw, cfg, s.now()
	return s, nil
}

// MutualTLS reports whether clients must present a certificate.
func (s *Server) MutualTLS() bool { return s.files.ClientCA != "" }

// Config returns the configuration to serve with: every handshake gets the
// current certificate and client CA.
func (s *Server) Config() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return s.current(), nil },
	}
}

// current returns the configuration, reloading it first if the files changed.
func (s *Server) current() *tls.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Sub(s.checked) < s.interval {
		return s.cfg
	}
	s.checked = now
	raw, err := s.read()
	if err != nil {
		s.logOnce(raw, "TLS files unreadable; keeping the previous certificate", err)
		return s.cfg
	}
	if equal(raw, s.raw) {
		return s.cfg
	}
	cfg, err := s.build(raw)
	if err != nil {
		s.logOnce(raw, "TLS files changed but do not load; keeping the previous certificate", err)
		return s.cfg
	}
	s.raw, s.cfg = raw, cfg
	s.log.Info("TLS files reloaded", "cert", s.files.Cert, "client_ca", s.files.ClientCA, "not_after", notAfter(cfg))
	return s.cfg
}

func (s *Server) logOnce(raw [3][]byte, msg string, err error) {
	if equal(raw, s.badRaw) {
		return
	}
	s.badRaw = raw
	s.log.Error(msg, "cert", s.files.Cert, "err", err)
}

func equal(a, b [3][]byte) bool {
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func (s *Server) read() ([3][]byte, error) {
	var raw [3][]byte
	for i, p := range []string{s.files.Cert, s.files.Key, s.files.ClientCA} {
		if p == "" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return raw, err
		}
		raw[i] = b
	}
	return raw, nil
}

func (s *Server) build(raw [3][]byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(raw[0], raw[1])
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", s.files.Cert, s.files.Key, err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		// gRPC clients require ALPN h2; GetConfigForClient's result
		// replaces the outer configuration, so it must say so itself.
		NextProtos: []string{"h2"},
	}
	if s.files.ClientCA != "" {
		pool, err := Pool(raw[2])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.files.ClientCA, err)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// Pool parses a PEM bundle of CA certificates; it fails when it holds none.
func Pool(pemBytes []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}

func notAfter(cfg *tls.Config) time.Time {
	if len(cfg.Certificates) == 0 || cfg.Certificates[0].Leaf == nil {
		return time.Time{}
	}
	return cfg.Certificates[0].Leaf.NotAfter
}
