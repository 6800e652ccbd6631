// Package explain serves the admin API's DebugService: Explain evaluates a
// request against an instance's published configuration with the code
// that serves it — the xDS translator (xds/translate) gives the Envoy
// resources, the Envoy emulator (internal/envoysim) routes the request through
// them and calls apigw's real ext_authz server (extauth) and rate-limit
// service (ratelimit, in a dry run that reads the counters without
// counting) in process, and the request the backend would receive is
// captured instead of sent. Send signs a request with an app's
// credentials and sends it to a gateway.
package explain

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/xds/translate"
)

// Options configure the service.
type Options struct {
	// Translate are the deployment settings the instance is served with
	// (the same as the xDS server's).
	Translate translate.Options
	// Counter is the rate-limit counter to read (the rate-limit service's,
	// or the shared Redis). nil reads an empty one: every limit shows its
	// full quota.
	Counter counter.Counter
	// ExtAuth are options of the ext_authz server (server name, ...).
	ExtAuth []extauth.Option
	// Client sends the requests of Send (default: a client that does not
	// follow redirects).
	Client *http.Client
	Log    *slog.Logger
}

// Service implements adminv1.DebugServiceServer.
type Service struct {
	adminv1.UnimplementedDebugServiceServer
	feed *live.Feed
	opts Options
	log  *slog.Logger
	auth *extauth.Server
	rls  *ratelimit.Service

	mu    sync.Mutex
	cache map[string]*translated // by instance, for the newest snapshot
	rev   int64
}

var _ adminv1.DebugServiceServer = (*Service)(nil)

// translated is an instance's configuration as an Envoy holds it.
type translated struct {
	cfg *envoysim.Config
	res *translate.Resources
}

// New returns the service over the snapshots of feed.
func New(feed *live.Feed, opts Options) (*Service, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cnt := opts.Counter
	if cnt == nil {
		cnt = counter.NewMemory()
	}
	rls, err := ratelimit.New(feed, cnt, log, ratelimit.WithDryRun())
	if err != nil {
		return nil, err
	}
	if opts.Client == nil {
		opts.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Service{feed: feed, opts: opts, log: log.With("component", "explain"), rls: rls,
		auth: extauth.New(feed, log, opts.ExtAuth...), cache: map[string]*translated{}}, nil
}

// instance returns the snapshot and the named instance.
func (s *Service) instance(name string) (*live.Snapshot, *model.Instance, error) {
	if name == "" {
		name = model.DefaultInstance
	}
	snap := s.feed.Current()
	if snap == nil {
		return nil, nil, status.Error(codes.Unavailable, "no configuration has been loaded yet")
	}
	in := snap.Instance(name)
	if in == nil {
		return nil, nil, status.Errorf(codes.NotFound, "instance %q not found", name)
	}
	return snap, in, nil
}

// config translates the instance as the xDS server does, once per
// snapshot.
func (s *Service) config(snap *live.Snapshot, in *model.Instance) (*translated, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rev != snap.Revision {
		clear(s.cache)
		s.rev = snap.Revision
	}
	if t := s.cache[in.Name]; t != nil {
		return t, nil
	}
	res, err := translate.Build(in, s.opts.Translate)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "translate instance %s: %v", in.Name, err)
	}
	cfg := envoysim.NewConfig()
	for _, r := range res.Listeners {
		cfg.Listeners[r.GetName()] = r
	}
	for _, r := range res.Routes {
		cfg.Routes[r.GetName()] = r
	}
	for _, r := range res.Scopes {
		cfg.Scopes[r.GetName()] = r
	}
	for _, r := range res.Clusters {
		cfg.Clusters[r.GetName()] = r
	}
	for _, r := range res.Endpoints {
		cfg.Endpoints[r.GetClusterName()] = r
	}
	for _, r := range res.Secrets {
		cfg.Secrets[r.GetName()] = r
	}
	t := &translated{cfg: cfg, res: res}
	s.cache[in.Name] = t
	return t, nil
}

// Overview summarizes the instance as served.
func (s *Service) Overview(_ context.Context, req *adminv1.OverviewRequest) (*adminv1.OverviewResponse, error) {
	snap, in, err := s.instance(req.GetInstance())
	if err != nil {
		return nil, err
	}
	out := &adminv1.OverviewResponse{Revision: snap.Revision}
	for _, k := range []string{model.KindGroup, model.KindAPI, model.KindEnvironment, model.KindEnvVariable, model.KindApp, model.KindAppAuth,
		model.KindThrottle, model.KindThrottleBinding, model.KindACL, model.KindACLBinding, model.KindAppQuota, model.KindVpcChannel,
		model.KindAuthorizer, model.KindResponse, model.KindCertificate} {
		out.Kinds = append(out.Kinds, &adminv1.KindCount{Kind: k, Count: int32(in.Count(k))})
	}
	byEnv := map[string]int32{}
	online := map[string]bool{}
	for _, p := range in.ServedAll() {
		byEnv[p.GetEnvId()]++
		online[p.GetApiId()] = true
	}
	for _, m := range in.Objects(model.KindEnvironment) {
		if e, ok := m.(interface{ GetId() string }); ok {
			env := in.Env(e.GetId())
			out.Published = append(out.Published, &adminv1.EnvCount{EnvId: env.GetId(), EnvName: env.GetName(), Apis: byEnv[env.GetId()]})
			delete(byEnv, env.GetId())
		}
	}
	for id, n := range byEnv { // environments without an object (RELEASE)
		name := id
		if id == model.ReleaseEnvID {
			name = model.ReleaseEnvName
		}
		out.Published = append(out.Published, &adminv1.EnvCount{EnvId: id, EnvName: name, Apis: n})
	}
	out.Unpublished = int32(in.Count(model.KindAPI) - len(online))
	return out, nil
}

// timeout bounds a Send.
func timeout(ms int32) time.Duration {
	switch {
	case ms <= 0:
		return 10 * time.Second
	case ms > 60000:
		return time.Minute
	}
	return time.Duration(ms) * time.Millisecond
}
