package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/internal/recovery"
	"github.com/apigw/apigw/internal/tracing"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/ratelimit/counter"
)

// deps are what the components share.
type deps struct {
	cfg    *Config
	log    *slog.Logger
	reg    *prometheus.Registry
	store  *store.Store
	feed   *live.Feed
	status *live.Status
	// als is the access-log service (nil when it does not run here);
	// counter is the rate-limit component's counter (nil when it does
	// not run here); admin holds the admin services, made once for the
	// admin port and the console.
	als     *accesslog.Server
	counter counter.Counter
	admin   *adminServices
}

// service is one gRPC component on its own port.
type service struct {
	name     string
	addr     string
	opts     []grpc.ServerOption
	register func(ctx context.Context, s *grpc.Server) error
	// run is an optional background loop, stopped by ctx.
	run func(ctx context.Context) error
	// traced servers record spans when --tracing-collector is set.
	traced bool
}

// Run runs the configured components until ctx ends, then shuts down
// gracefully.
func Run(ctx context.Context, cfg *Config, logOut io.Writer) error {
	log := newLogger(cfg, logOut)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Bind every port first, so that a busy port fails fast and clearly.
	opsLis, err := net.Listen("tcp", cfg.OpsAddr)
	if err != nil {
		return fmt.Errorf("ops endpoint: %w", err)
	}
	defer opsLis.Close()
	d := &deps{cfg: cfg, log: log, reg: reg, feed: live.NewFeed(), status: live.NewStatus()}
	svcs, err := services(d)
	if err != nil {
		return err
	}
	conLis, err := consoleListener(cfg)
	if err != nil {
		return err
	}
	if conLis != nil {
		defer conLis.Close()
	}
	fnLis, err := functionsListener(cfg)
	if err != nil {
		return err
	}
	if fnLis != nil {
		defer fnLis.Close()
	}
	listeners := make([]net.Listener, len(svcs))
	for i, s := range svcs {
		if listeners[i], err = net.Listen("tcp", s.addr); err != nil {
			for _, l := range listeners[:i] {
				l.Close()
			}
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	names := []string{"store"}
	for _, s := range svcs {
		names = append(names, s.name)
	}
	if conLis != nil {
		names = append(names, CompConsole)
	}
	if fnLis != nil {
		names = append(names, CompFunctions)
	}
	ready := newReadiness(names...)
	ops := opsServer(opsLis, reg, ready, log)
	defer shutdownHTTP(ops, cfg.ShutdownTimeout)

	key, err := secretKey(cfg)
	if err != nil {
		return err
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		return err
	}
	cli, closeEtcd, err := connectEtcd(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeEtcd()
	d.store = store.New(cli, store.NewCodec(sealer), log, reg)
	d.store.SetRequestTimeout(cfg.EtcdRequestTimeout)

	var tracer *tracing.Tracer
	if cfg.TracingCollector != "" {
		if tracer, err = tracing.New(ctx, tracing.Options{Collector: cfg.TracingCollector, SamplingPercentage: cfg.TracingSamplingPercentage}); err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			_ = tracer.Shutdown(sctx)
		}()
	}
	rec := recovery.New(log, reg)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.store.Watch(gctx, d.feed) })
	g.Go(func() error { settleMemory(gctx, d.feed, 5*time.Second, debug.FreeOSMemory); return nil })
	g.Go(func() error {
		select {
		case <-d.feed.Ready():
			ready.done("store")
		case <-gctx.Done():
		}
		return nil
	})
	servers := make([]*grpc.Server, 0, len(svcs))
	for i, s := range svcs {
		if tracer != nil && s.traced {
			s.opts = append(s.opts, tracer.ServerOption())
		}
		gs, hs := s.newServer(rec)
		if err := s.register(gctx, gs); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		servers = append(servers, gs)
		lis := listeners[i]
		g.Go(func() error {
			if err := gs.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				return fmt.Errorf("%s server: %w", s.name, err)
			}
			return nil
		})
		if s.run != nil {
			g.Go(func() error { return s.run(gctx) })
		}
		hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		ready.done(s.name)
		log.Info("listening", "component", s.name, "addr", lis.Addr().String())
	}
	if conLis != nil {
		if err := startConsole(gctx, g, d, rec, conLis); err != nil {
			return fmt.Errorf("%s: %w", CompConsole, err)
		}
		ready.done(CompConsole)
	}
	if fnLis != nil {
		startFunctions(gctx, g, d, fnLis)
		ready.done(CompFunctions)
	}
	log.Info("apigw started", "components", cfg.Components, "ops", opsLis.Addr().String(), "embedded_etcd", cfg.Embedded())

	<-gctx.Done()
	log.Info("shutting down")
	stopAll(servers, cfg.ShutdownTimeout)
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// stopAll stops the gRPC servers gracefully, forcing them after timeout.
func stopAll(servers []*grpc.Server, timeout time.Duration) {
	done := make(chan struct{})
	go func() {
		for _, s := range servers {
			s.GracefulStop()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		for _, s := range servers {
			s.Stop()
		}
	}
}

func newLogger(cfg *Config, out io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}
