// Package extauth is apigw's Envoy ext_authz service: for every API
// request Envoy sends a CheckRequest naming the API (route
// context_extensions, see dataplane); Check authenticates and
// authorizes it exactly as Huawei APIG would and answers with the mutations
// for the backend request and dynamic metadata, or with the rendered
// gateway response of the denial. A denial is never a gRPC error.
//
// Wire it with
//
//	srv := extauth.New(feed, logger, extauth.WithRegisterer(reg))
//	srv.Register(grpcServer) // listening on dataplane.PortExtAuth
package extauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/apigw/apigw/extauth/authorizer"
	"github.com/apigw/apigw/extauth/iam"
	"github.com/apigw/apigw/model/gwresp"
	"github.com/apigw/apigw/model/live"
)

// Server implements envoy.service.auth.v3.Authorization.
type Server struct {
	authv3.UnimplementedAuthorizationServer

	feed  *live.Feed
	log   *slog.Logger
	cfg   config
	authz *authorizer.Client
	iam   *iam.Verifier
	// third calls third_auth services (redirects are answers, not
	// followed); thirdFails counts their failures per client IP.
	third      *http.Client
	thirdFails *thirdFails
	metrics    *metrics
	plans      atomic.Pointer[plans]
	okStatus   *rpcstatus.Status
}

var _ authv3.AuthorizationServer = (*Server)(nil)

// New returns a server answering from the snapshots of feed.
func New(feed *live.Feed, logger *slog.Logger, opts ...Option) *Server {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		feed:       feed,
		log:        logger.With(slog.String("component", "extauth")),
		cfg:        cfg,
		authz:      authorizer.NewClient(cfg.httpClient, cfg.now, cfg.cacheSize),
		iam:        iam.NewVerifier(cfg.httpClient, cfg.now, cfg.jwksTTL),
		third:      noRedirects(cfg.httpClient),
		thirdFails: newThirdFails(),
		metrics:    newMetrics(cfg.reg),
		okStatus:   &rpcstatus.Status{Code: int32(codes.OK)},
	}
}

// Register registers the Authorization service on g.
func (s *Server) Register(g *grpc.Server) { authv3.RegisterAuthorizationServer(g, s) }

// Check answers one ext_authz check. It never returns an error: every
// decision, including a malformed check, is a response.
func (s *Server) Check(ctx context.Context, req *authv3.CheckRequest) (resp *authv3.CheckResponse, err error) {
	start := time.Now()
	c := &call{s: s, ctx: ctx, now: s.cfg.now(), start: start, cr: req}
	defer func() {
		if p := recover(); p != nil {
			resp = c.internal(fmt.Errorf("panic: %v", p))
		}
		d := time.Since(start)
		s.metrics.observe(c.decision.allowed, c.decision.reason, d)
		s.logDecision(ctx, c, d)
	}()
	c.req = newRequest(req)
	if req.GetAttributes().GetRequest().GetHttp() == nil {
		d := denyf(ReasonBadRequest, gwresp.ErrBadRequest, "the check has no HTTP request attributes")
		c.decision.reason, c.decision.denial = d.reason, d
		return c.denyResponse(d), nil
	}
	if m, _ := c.req.hdr.get(hdrMode); strings.EqualFold(m, "debug") {
		c.decision.debug = true
	}
	snap := s.feed.Current()
	if snap == nil {
		return c.internal(errors.New("no configuration snapshot yet")), nil
	}
	c.plans = currentPlans(&s.plans, snap)
	if d := c.run(); d != nil {
		if d.reason == ReasonInternal {
			return c.internal(d.cause), nil
		}
		c.decision.reason, c.decision.denial = d.reason, d
		return c.denyResponse(d), nil
	}
	c.decision.allowed, c.decision.reason = true, ReasonAllowed
	if c.backend.downgraded {
		c.decision.reason = ReasonBreakerDowngrade
		if c.backend.passthrough != nil {
			c.decision.reason = ReasonBreakerPassthrough
		}
	}
	return c.allowResponse(), nil
}

// internal handles an error of apigw itself: deny 500 APIG.0601 (fail
// closed) or, with WithFailOpen, allow without mutations.
func (c *call) internal(cause error) *authv3.CheckResponse {
	c.decision.reason = ReasonInternal
	d := &denial{reason: ReasonInternal, err: gwresp.ErrInternal, cause: cause}
	c.decision.denial = d
	if c.s.cfg.failOpen {
		c.decision.allowed = true
		return &authv3.CheckResponse{Status: c.s.okStatus, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{}}}
	}
	c.decision.allowed = false
	return c.denyResponse(d)
}

// logDecision logs the decision at debug level (denials with their
// reason; internal errors at error level). Secrets — signatures, AppCodes,
// tokens, identity values — are never logged.
func (s *Server) logDecision(ctx context.Context, c *call, d time.Duration) {
	level := slog.LevelDebug
	if c.decision.reason == ReasonInternal {
		level = slog.LevelError
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.Bool("allowed", c.decision.allowed), slog.String("reason", string(c.decision.reason)),
		slog.String("method", c.req.method), slog.String("path", c.req.path),
		slog.String("request_id", c.req.requestID), slog.Duration("duration", d),
	}
	if c.target.plan != nil {
		attrs = append(attrs, slog.String("api_id", c.target.plan.pub.ApiId), slog.String("env_id", c.target.plan.pub.EnvId))
	}
	if c.caller.app != nil {
		attrs = append(attrs, slog.String("app_id", c.caller.app.Id))
	}
	if c.caller.account != "" {
		attrs = append(attrs, slog.String("account_id", c.caller.account))
	}
	if c.client.str != "" {
		attrs = append(attrs, slog.String("client_ip", c.client.str))
	}
	if c.backend.plan != nil && c.backend.plan.name != "" {
		attrs = append(attrs, slog.String("policy", c.backend.plan.name))
	}
	if dn := c.decision.denial; dn != nil {
		attrs = append(attrs, slog.String("code", dn.err.Code), slog.String("message", dn.err.Message))
		if dn.cause != nil {
			attrs = append(attrs, slog.String("cause", dn.cause.Error()))
		}
	}
	s.log.LogAttrs(context.WithoutCancel(ctx), level, "ext_authz decision", attrs...)
}

// noRedirects returns a copy of hc (http.DefaultClient when nil) that
// returns redirects instead of following them.
func noRedirects(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
