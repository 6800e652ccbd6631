// Package proxycache is apigw's cache of proxy_cache plug-ins
// (docs/plugins.md#proxy_cache): an Envoy ext_proc service. Envoy's ext_proc
// filter, enabled on the routes of APIs with a proxy_cache plug-in, sends it
// each request's headers with the route's cache scope as gRPC initial
// metadata; a fresh entry is answered with an immediate response, a miss
// continues to the backend through the route (rewrites and header changes
// included) and the backend's response headers and buffered body come back
// to be stored.
package proxycache

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// ScopeMetadata is the gRPC initial metadata key of the cache scope
// ("<route>;content=<hash>") the translator sets on each cached route.
const ScopeMetadata = dataplane.CacheScopeHeader

// Server is the ext_proc cache service.
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer
	feed  *live.Feed
	log   *slog.Logger
	now   func() time.Time
	max   int64
	reg   prometheus.Registerer
	m     *metrics
	store *store

	// contents are the proxy_cache contents of a snapshot, by hash.
	contents atomic.Pointer[contentSet]
}

// contentSet is the proxy_cache contents of one snapshot, by content hash.
type contentSet struct {
	snap   *live.Snapshot
	byHash map[string]*apigwv1.ProxyCacheContent
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock of entry lifetimes (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithMaxBytes sets the total size kept (default 128 MiB).
func WithMaxBytes(n int64) Option { return func(s *Server) { s.max = n } }

// WithRegisterer registers the cache's metrics.
func WithRegisterer(reg prometheus.Registerer) Option { return func(s *Server) { s.reg = reg } }

// New returns a cache reading the proxy_cache plug-ins from feed.
func New(feed *live.Feed, log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{feed: feed, log: log.With("component", "proxycache"), now: time.Now, max: model.ProxyCacheMaxTotalBytes, m: newMetrics()}
	for _, o := range opts {
		o(s)
	}
	s.store = newStore(s.max, s.m)
	if s.reg != nil {
		for _, c := range s.m.collectors() {
			if err := s.reg.Register(c); err != nil {
				s.log.Warn("proxy cache metrics not registered", "err", err)
			}
		}
	}
	return s
}

// Register adds the ext_proc service to a gRPC server.
func (s *Server) Register(g *grpc.Server) { extprocv3.RegisterExternalProcessorServer(g, s) }

// Purge drops the entries of the routes whose name starts with route (""
// for every entry) and returns how many were dropped.
func (s *Server) Purge(route string) int { return s.store.purge(route) }

// Len returns the number of entries and their total size.
func (s *Server) Len() (int, int64) { return s.store.size() }

// Run follows the definitions: for each new snapshot it indexes the
// proxy_cache contents and drops the entries stored under contents no
// plug-in has any more, so that requests never pay for either. It returns
// when ctx ends.
func (s *Server) Run(ctx context.Context) {
	if s.feed == nil {
		return
	}
	for range s.feed.Subscribe(ctx) {
		// Each entry is checked against the newest contents, so that a
		// late notification never drops what newer ones stored.
		if n := s.store.retain(func(h string) bool { return s.content(h) != nil }); n > 0 {
			s.log.Debug("entries of changed plug-ins dropped", "entries", n)
		}
	}
}

// content returns the proxy_cache content of a hash in the current
// snapshot: an atomic load, unless Run has not yet indexed the snapshot
// (just after a change), when the request indexes it itself.
func (s *Server) content(hash string) *apigwv1.ProxyCacheContent {
	if s.feed == nil {
		return nil
	}
	set := s.contents.Load()
	if cur := s.feed.Current(); set == nil || set.snap != cur {
		set = s.index(cur)
	}
	return set.byHash[hash]
}

// index returns the contents of a snapshot, indexing them once.
func (s *Server) index(snap *live.Snapshot) *contentSet {
	if set := s.contents.Load(); set != nil && set.snap == snap {
		return set
	}
	set := &contentSet{snap: snap, byHash: map[string]*apigwv1.ProxyCacheContent{}}
	if snap != nil {
		for _, in := range snap.Instances() {
			for _, p := range in.ProxyCachePlugins() {
				if c := model.ProxyCacheContentOf(p); c != nil {
					set.byHash[model.ProxyCacheContentHash(c)] = c
				}
			}
		}
	}
	s.contents.Store(set)
	return set
}

// parseScope splits "<route>;content=<hash>".
func parseScope(v string) (route, hash string, ok bool) {
	route, hash, ok = strings.Cut(v, ";content=")
	return route, hash, ok && route != "" && hash != ""
}
