package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readiness tracks what must be up before /readyz answers 200.
type readiness struct {
	mu      sync.Mutex
	pending map[string]bool
}

func newReadiness(names ...string) *readiness {
	r := &readiness{pending: map[string]bool{}}
	for _, n := range names {
		r.pending[n] = true
	}
	return r
}

func (r *readiness) done(name string) {
	r.mu.Lock()
	delete(r.pending, name)
	r.mu.Unlock()
}

func (r *readiness) missing() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for n := range r.pending {
		out = append(out, n)
	}
	return out
}

// opsServer serves /healthz, /readyz and /metrics.
func opsServer(lis net.Listener, reg *prometheus.Registry, ready *readiness, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if m := ready.missing(); len(m) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintln(w, "not ready: waiting for", strings.Join(m, ", "))
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("ops server stopped", "err", err)
		}
	}()
	return srv
}

func shutdownHTTP(srv *http.Server, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
