package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/apigw/apigw/functions"
)

// functionsListener binds the function component's address (nil when the
// component is off).
func functionsListener(cfg *Config) (net.Listener, error) {
	if !cfg.Has(CompFunctions) {
		return nil, nil
	}
	l, err := net.Listen("tcp", cfg.FunctionsAddr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CompFunctions, err)
	}
	return l, nil
}

// startFunctions serves FUNCTION backends on lis until ctx ends.
func startFunctions(ctx context.Context, g *errgroup.Group, d *deps, lis net.Listener) {
	log := d.log.With("component", CompFunctions)
	srv := &http.Server{
		Handler:           functions.New(ctx, d.feed, log, functions.Options{MaxAsync: d.cfg.FunctionsMaxAsync, Registerer: d.reg}),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    1 << 20,
	}
	g.Go(func() error {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("%s server: %w", CompFunctions, err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdownHTTP(srv, d.cfg.ShutdownTimeout)
		return nil
	})
	log.Info("listening", "component", CompFunctions, "addr", lis.Addr().String())
}
