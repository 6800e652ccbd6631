package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/internal/apigwproc"
	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/xds/xdstest"
)

// Envoy's listener ports as given to apigw (--envoy-http-port and
// --envoy-https-port); the emulated Envoy binds nothing.
const envoyHTTP, envoyHTTPS = 18080, 18443

// gatewayFlags point the Envoys' ext_authz, rate-limit and access-log
// clusters at p's services.
func gatewayFlags(p *apigwproc.Proc) []string {
	return []string{"--envoy-extauth-address", p.ExtAuth, "--envoy-ratelimit-address", p.RateLimit, "--envoy-accesslog-address", p.AccessLog,
		"--envoy-http-port", "18080", "--envoy-https-port", "18443"}
}

// backend answers every request with its method and path as JSON.
func backend(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// gateway connects an emulated Envoy of the default instance to p's xDS
// server and serves it over HTTP: the gateway URL the console's Send
// targets. Its access logs stream to p's access-log service, the source
// of the console's metrics.
func gateway(t *testing.T, p *apigwproc.Proc) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ads, err := envoysim.Connect(ctx, p.XDS, xdstest.Node("console-envoy", "default", xdstest.EnvoyVersion), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ads.Close() })
	envoy := envoysim.New(ads, envoysim.Options{HTTPPort: envoyHTTP, HTTPSPort: envoyHTTPS, MinServiceTimeout: 10 * time.Second, Log: log})
	t.Cleanup(envoy.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := envoy.Serve(r.Context(), &envoysim.Request{Method: r.Method, Path: r.RequestURI, Host: r.Host, Header: r.Header.Clone(), Body: body, Source: r.RemoteAddr})
		if err != nil {
			http.Error(w, "envoysim: "+err.Error(), http.StatusBadGateway)
			return
		}
		for k, vs := range resp.Header {
			if !strings.HasPrefix(k, ":") {
				w.Header()[k] = vs
			}
		}
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
