package server

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/accesslog/kafkalog"
	"github.com/apigw/apigw/breaker"
	"github.com/apigw/apigw/breaker/alsink"
	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/internal/grpcopts"
	"github.com/apigw/apigw/proxycache"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/xds/ads"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdscache"
	"github.com/apigw/apigw/xds/xdssync"
)

// services returns the gRPC components enabled by the configuration. The
// register functions run after the store is connected.
func services(d *deps) ([]service, error) {
	var out []service
	// The breakers of breaker plug-ins are fed by an access-log stream
	// and read by ext_authz: they work where ext_authz runs with the
	// accesslog component or the breakers sink (sidecar layout).
	var breakers *breaker.Registry
	if (d.cfg.Has(CompAccessLog) || d.cfg.Has(CompBreakers)) && d.cfg.Has(CompExtAuth) {
		breakers = breaker.New(d.feed, d.log, breaker.WithRegisterer(d.reg))
	} else if d.cfg.Has(CompExtAuth) {
		d.log.Warn("ext_authz runs without the accesslog or breakers component in this process: breaker plug-ins never open here (docs/plugins.md#breaker)")
	}
	als, kafka, err := accessLogService(d, breakers)
	if err != nil {
		return nil, err
	}
	d.als = als
	if d.cfg.Has(CompAdmin) {
		opts, err := adminServerOptions(d.cfg, d.log)
		if err != nil {
			return nil, err
		}
		opts = append(opts, maxRecv(d.cfg))
		out = append(out, service{name: CompAdmin, addr: d.cfg.AdminAddr, opts: opts, traced: true,
			register: func(ctx context.Context, s *grpc.Server) error { return registerAdminServices(ctx, s, d) },
			run:      func(ctx context.Context) error { return d.admin.admin.RunAuditRetention(ctx, time.Minute) }})
	}
	if d.cfg.Has(CompXDS) {
		cache := xdscache.New(d.log, xdscache.WithRegisterer(d.reg))
		opts, err := envoyServiceOptions(d.cfg, CompXDS, d.log)
		if err != nil {
			return nil, err
		}
		out = append(out, service{name: CompXDS, addr: d.cfg.XDSAddr, opts: append(opts, ads.GRPCOptions()...),
			register: func(ctx context.Context, s *grpc.Server) error {
				ads.New(ctx, cache, d.status, d.log, ads.Options{Registerer: d.reg}).Register(s)
				return nil
			},
			run: func(ctx context.Context) error {
				return xdssync.New(d.feed, cache, d.status, d.log, xdssync.Options{Translate: translateOptions(d.cfg), Registerer: d.reg}).Run(ctx)
			}})
	}
	if d.cfg.Has(CompExtAuth) {
		opts, err := envoyServiceOptions(d.cfg, CompExtAuth, d.log)
		if err != nil {
			return nil, err
		}
		opts = append(append(opts, grpcopts.DataPlane(grpcopts.ExtAuthWorkersPerCPU)...), extauth.ServerOptions()...)
		out = append(out, service{name: CompExtAuth, addr: d.cfg.ExtAuthAddr, opts: opts, traced: true, register: func(ctx context.Context, s *grpc.Server) error {
			opts := []extauth.Option{extauth.WithRegisterer(d.reg), extauth.WithFailOpen(d.cfg.ExtAuthFailOpen)}
			if d.cfg.ServerName != "" {
				opts = append(opts, extauth.WithServerName(d.cfg.ServerName))
			}
			if breakers != nil {
				opts = append(opts, extauth.WithBreakers(breakers))
			}
			extauth.New(d.feed, d.log, opts...).Register(s)
			// proxy_cache: Envoy's ext_proc filter reaches apigw's cache
			// on the ext_authz address (docs/plugins.md#proxy_cache).
			cache := proxycache.New(d.feed, d.log, proxycache.WithRegisterer(d.reg))
			cache.Register(s)
			go cache.Run(ctx)
			return nil
		}})
	}
	if d.cfg.Has(CompRateLimit) {
		var cnt counter.Counter = counter.NewMemory()
		var closer func() error
		if d.cfg.RedisURL != "" {
			r, err := counter.OpenRedis(d.cfg.RedisURL, counter.WithRedisRegisterer(d.reg))
			if err != nil {
				return nil, fmt.Errorf("--redis-url: %w", err)
			}
			cnt, closer = r, r.Close
		}
		d.counter = cnt
		mode := ratelimit.FailOpen
		if !d.cfg.RateLimitFailOpen {
			mode = ratelimit.FailClosed
		}
		opts, err := envoyServiceOptions(d.cfg, CompRateLimit, d.log)
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpcopts.DataPlane(grpcopts.RateLimitWorkersPerCPU)...)
		out = append(out, service{name: CompRateLimit, addr: d.cfg.RateLimitAddr, opts: opts, traced: true,
			register: func(ctx context.Context, s *grpc.Server) error {
				if r, ok := cnt.(*counter.Redis); ok {
					pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
					defer cancel()
					if err := r.Ping(pctx); err != nil {
						d.log.Warn("redis is unreachable; throttled calls follow --ratelimit-fail-open until it answers", "err", err, "fail_open", d.cfg.RateLimitFailOpen)
					}
				}
				// WithRequestReuse: the server's only interceptors are
				// panic recovery's, and its only stats handler
				// (insecureConnLog) ignores calls: none keeps a request.
				svc, err := ratelimit.New(d.feed, cnt, d.log, ratelimit.WithRegisterer(d.reg), ratelimit.WithFailureMode(mode), ratelimit.WithRequestReuse())
				if err != nil {
					return err
				}
				svc.Register(s)
				return nil
			},
			run: func(ctx context.Context) error {
				<-ctx.Done()
				if closer != nil {
					return closer()
				}
				return nil
			}})
	}
	if als != nil {
		opts, err := envoyServiceOptions(d.cfg, CompAccessLog, d.log)
		if err != nil {
			return nil, err
		}
		out = append(out, service{name: CompAccessLog, addr: d.cfg.AccessLogAddr, opts: opts,
			register: func(_ context.Context, s *grpc.Server) error { als.Register(s); return nil },
			run: func(ctx context.Context) error {
				g, gctx := errgroup.WithContext(ctx)
				if breakers != nil {
					g.Go(func() error { return breakers.Run(gctx) })
				}
				g.Go(func() error { return als.Run(gctx) })
				g.Go(func() error { return kafka.Run(gctx, d.feed) })
				return g.Wait()
			}})
	}
	if d.cfg.Has(CompBreakers) && breakers != nil {
		svc, err := breakerService(d, breakers)
		if err != nil {
			return nil, err
		}
		out = append(out, svc)
	}
	return out, nil
}

// breakerService is the breakers component: an access-log service whose
// only sink is the breakers of this process's ext_authz. Its stream
// metrics carry sink="breakers", apart from the access-log service's
// (which sees the same entries in the sidecar layout).
func breakerService(d *deps, breakers *breaker.Registry) (service, error) {
	var reg prometheus.Registerer
	if d.reg != nil {
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"sink": CompBreakers}, d.reg)
	}
	sink, err := accesslog.New(nil, d.log, reg, alsink.Sink{Registry: breakers})
	if err != nil {
		return service{}, err
	}
	opts, err := envoyServiceOptions(d.cfg, CompBreakers, d.log)
	if err != nil {
		return service{}, err
	}
	return service{name: CompBreakers, addr: d.cfg.BreakersAddr, opts: opts,
		register: func(_ context.Context, s *grpc.Server) error { sink.Register(s); return nil },
		run:      breakers.Run}, nil
}

// accessLogService builds the access-log service when it is enabled, with
// the producer of the kafka_log plug-ins (and the breakers, when given) as
// more sinks; the admin API answers GetAPIMetrics from it.
func accessLogService(d *deps, breakers *breaker.Registry) (*accesslog.Server, *kafkalog.Producer, error) {
	if !d.cfg.Has(CompAccessLog) {
		return nil, nil, nil
	}
	stats, err := accesslog.NewStats(accesslog.StatsOptions{MaxAPIs: d.cfg.APIMetricsMaxAPIs, MaxApps: d.cfg.APIMetricsMaxApps, Registerer: d.reg})
	if err != nil {
		return nil, nil, err
	}
	kafka, err := kafkalog.New(d.log, kafkalog.Options{BufferRecords: d.cfg.KafkaLogBufferRecords, Registerer: d.reg})
	if err != nil {
		return nil, nil, err
	}
	sinks := []accesslog.Sink{kafka}
	if breakers != nil {
		sinks = append(sinks, alsink.Sink{Registry: breakers})
	}
	als, err := accesslog.New(stats, d.log, d.reg, sinks...)
	return als, kafka, err
}

func translateOptions(c *Config) translate.Options {
	return translate.Options{
		HTTPPort: uint32(c.EnvoyHTTPPort), HTTPSPort: uint32(c.EnvoyHTTPSPort), HTTPSRedirectPort: uint32(c.HTTPSRedirectPort),
		ExtAuthzAddress: c.EnvoyExtAuthAddr, RateLimitAddress: c.EnvoyRateLimitAddr,
		HTTPRouting: c.HTTPRouting, UpstreamCAFile: c.UpstreamCAFile,
		ExtAuthzTLS:      c.envoyUsesTLS(CompExtAuth, c.EnvoyExtAuthAddr),
		RateLimitTLS:     c.envoyUsesTLS(CompRateLimit, c.EnvoyRateLimitAddr),
		AccessLogAddress: c.EnvoyAccessLogAddr,
		FunctionsAddress: c.EnvoyFunctionsAddr,
		AccessLogTLS:     c.EnvoyAccessLogAddr != translate.AccessLogOff && c.envoyUsesTLS(CompAccessLog, c.EnvoyAccessLogAddr),
		// The breakers sink runs next to each Envoy (sidecar layout).
		BreakerAccessLogAddress: c.EnvoyBreakerAccessLogAddr,
		BreakerAccessLogTLS:     c.EnvoyUsesTLS(CompBreakers),
		EnvoyTLSDir:             c.EnvoyTLSDir,
	}
}
