package server

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"github.com/apigw/apigw/explain"
	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/internal/inproc"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/openapisvc"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	"github.com/apigw/apigw/ratelimit/counter"
)

// adminServices are the services of the admin API: the admin port and the
// console serve the same instances.
type adminServices struct {
	admin   *admin.Server
	openapi *openapisvc.Service
	debug   *explain.Service
}

// registerAdminServices registers the admin API's services on s. The
// admin server answers GetAPIMetrics from the access-log service when it
// runs in this process, and records direct etcd writes in the audit trail.
// OpenAPIService imports and exports through the same admin server,
// called in process; DebugService explains requests with this process's
// rate-limit counter when the ratelimit component runs here, else with
// the shared Redis (--redis-url), else with empty counters.
func registerAdminServices(ctx context.Context, s *grpc.Server, d *deps) error {
	if d.admin == nil {
		opts := []admin.Option{admin.WithAuditRetention(admin.AuditRetention{MaxAge: d.cfg.AuditMaxAge, MaxEvents: d.cfg.AuditMaxEvents})}
		if d.als != nil {
			opts = append(opts, admin.WithAPIMetrics(d.als), admin.WithChannelHealth(d.als))
		}
		adm := admin.New(d.store, d.feed, d.status, d.log, opts...)
		d.store.OnDirectWrite(adm.RecordDirectWrite)
		cnt := d.counter
		if cnt == nil && d.cfg.RedisURL != "" {
			r, err := counter.OpenRedis(d.cfg.RedisURL)
			if err != nil {
				return fmt.Errorf("--redis-url: %w", err)
			}
			go func() { <-ctx.Done(); _ = r.Close() }()
			cnt = r
		}
		var authOpts []extauth.Option
		if d.cfg.ServerName != "" {
			authOpts = append(authOpts, extauth.WithServerName(d.cfg.ServerName))
		}
		dbg, err := explain.New(d.feed, explain.Options{Translate: translateOptions(d.cfg), Counter: cnt, ExtAuth: authOpts, Log: d.log})
		if err != nil {
			return err
		}
		d.admin = &adminServices{admin: adm, debug: dbg,
			openapi: openapisvc.New(adminv1.NewAdminServiceClient(inproc.New(&adminv1.AdminService_ServiceDesc, adm)))}
	}
	adminv1.RegisterAdminServiceServer(s, d.admin.admin)
	adminv1.RegisterOpenAPIServiceServer(s, d.admin.openapi)
	adminv1.RegisterDebugServiceServer(s, d.admin.debug)
	return nil
}

// maxRecv bounds one admin request.
func maxRecv(cfg *Config) grpc.ServerOption { return grpc.MaxRecvMsgSize(cfg.AdminMaxRequestBytes) }
