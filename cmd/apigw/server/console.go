package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/apigw/apigw/console"
	"github.com/apigw/apigw/internal/recovery"
	"github.com/apigw/apigw/internal/tlsfiles"
)

// finishConsole applies the admin API's guard to the console, which serves
// the same API: beyond loopback it needs a token or client certificates
// (or --admin-insecure).
func (c *Config) finishConsole() []error {
	if !c.Has(CompConsole) || c.AdminInsecure || loopback(c.ConsoleAddr) || c.AdminToken != "" || c.AdminClientCAFile != "" {
		return nil
	}
	return []error{fmt.Errorf("--console-addr %s is not loopback: the console serves the admin API, so require a token (--admin-token-file or APIGW_ADMIN_TOKEN) or client certificates (--admin-client-ca-file with --admin-tls-cert-file/--admin-tls-key-file), or pass --admin-insecure", c.ConsoleAddr)}
}

// consoleListener binds the console's address (nil when the component is
// off).
func consoleListener(cfg *Config) (net.Listener, error) {
	if !cfg.Has(CompConsole) {
		return nil, nil
	}
	l, err := net.Listen("tcp", cfg.ConsoleAddr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CompConsole, err)
	}
	return l, nil
}

// startConsole serves the web console on lis until ctx ends: the embedded app and the
// admin services, through a gRPC server (never listening itself) with the
// admin API's interceptors and handlers, transcoded from the browser's
// Connect protocol.
func startConsole(ctx context.Context, g *errgroup.Group, d *deps, rec *recovery.Recoverer, lis net.Listener) error {
	opts, err := adminServerOptions(d.cfg, d.log)
	if err != nil {
		return err
	}
	gs, _ := newGRPCServer(append(append(rec.ServerOptions(CompConsole), opts...), maxRecv(d.cfg))...)
	if err := registerAdminServices(ctx, gs, d); err != nil {
		return err
	}
	if !d.cfg.Has(CompAdmin) {
		// The admin component prunes the audit trail when it runs.
		g.Go(func() error { return d.admin.admin.RunAuditRetention(ctx, time.Minute) })
	}
	rpc, err := console.RPCHandler(gs)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: console.Handler(rpc, console.Options{Authenticated: d.cfg.AdminToken != "" || d.cfg.AdminClientCAFile != "",
			Hosts: listenHosts(d.cfg.ConsoleAddr), AnyHost: d.cfg.AdminInsecure}),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	scheme := "http"
	if d.cfg.AdminTLSCert != "" {
		files := tlsfiles.Files{Cert: d.cfg.AdminTLSCert, Key: d.cfg.AdminTLSKey, ClientCA: d.cfg.AdminClientCAFile}
		creds, err := tlsfiles.NewServer(files, d.log.With("component", CompConsole))
		if err != nil {
			return fmt.Errorf("console TLS: %w", err)
		}
		srv.TLSConfig = creds.Config()
		lis = tls.NewListener(lis, srv.TLSConfig)
		scheme = "https"
	}
	g.Go(func() error {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("console server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdownHTTP(srv, d.cfg.ShutdownTimeout)
		return nil
	})
	d.log.Info("web console", "url", consoleURL(scheme, lis.Addr().String()))
	return nil
}

// consoleURL is the address to open in a browser: an unspecified listen
// address is reached on loopback.
func consoleURL(scheme, addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://" + addr + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}

// listenHosts is the host of a listen address when it names one (not an
// unspecified address): the console answers requests addressed to it.
func listenHosts(addr string) []string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return nil
	}
	return []string{strings.ToLower(host)}
}
