// Package admin implements the gRPC AdminService: create, read, update and
// delete of every resource, atomic apply, publishing, bindings and status.
// Every write loads the instance at one etcd revision, stages the change
// into a view derived from it, checks what it touches and what references
// that, and commits it in one transaction guarded on exactly those keys;
// a concurrent change makes it retry.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// Server implements adminv1.AdminServiceServer.
type Server struct {
	adminv1.UnimplementedAdminServiceServer
	store  *store.Store
	feed   *live.Feed
	status StatusReader
	log    *slog.Logger
	now    func() time.Time
	newID  func() string
	secret func(n int) string
	// beforeCommit, when set, runs between a write's load and its commit
	// (tests interleave concurrent writers there).
	beforeCommit func(attempt int)
	// metrics answers GetAPIMetrics (nil: the accesslog component does
	// not run in this process).
	metrics APIMetricsSource
	// health answers GetChannelHealth (nil as metrics).
	health ChannelHealthSource
	// retention bounds the audit trail (audit.go).
	retention AuditRetention
}

var _ adminv1.AdminServiceServer = (*Server)(nil)

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithIDs sets the id generator (tests).
func WithIDs(f func() string) Option { return func(s *Server) { s.newID = f } }

// StatusReader is what GetStatus reads of what the components report
// (live.Status implements it).
type StatusReader interface {
	// APIProblems returns the APIs the data plane leaves out of an
	// instance, with why.
	APIProblems(instance string) []model.APIProblem
	// Nodes returns the Envoys of an instance and what each acknowledged.
	Nodes(instance string) []live.NodeStatus
}

// New returns an admin server over a store. feed supplies the served
// snapshot and status the components' reports, for GetStatus.
func New(st *store.Store, feed *live.Feed, status StatusReader, log *slog.Logger, opts ...Option) *Server {
	s := &Server{store: st, feed: feed, status: status, log: log.With("component", "admin"),
		now: time.Now, newID: model.NewID, secret: model.NewSecret, retention: DefaultAuditRetention()}
	for _, o := range opts {
		o(s)
	}
	return s
}

const maxAttempts = 20

// mutate runs fn against a fresh view of the instance and commits what it
// staged. It retries when another writer got in between.
func (s *Server) mutate(ctx context.Context, instance string, dryRun bool, fn func(*tx) error) (*tx, error) {
	if instance == "" {
		instance = model.DefaultInstance
	}
	if err := model.CheckInstanceName("instance", instance).Err(); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		base, err := s.store.Load(ctx, instance)
		if err != nil {
			return nil, err
		}
		t := newTx(s, base)
		err = fn(t)
		if err == nil {
			err = t.finish()
		}
		if err != nil {
			// A refusal computed from a view that missed another replica's
			// write is retried against the newer state.
			if current, cerr := s.store.Current(ctx, base); cerr != nil || current || ctx.Err() != nil {
				return nil, err
			}
			lastErr = err
			continue
		}
		if dryRun || t.change.Empty() {
			return t, nil
		}
		t.change.Audit = s.auditRecord(ctx, t)
		if s.beforeCommit != nil {
			s.beforeCommit(attempt)
		}
		rev, err := s.store.Commit(ctx, base, &t.change)
		if errors.Is(err, model.ErrConflict) {
			lastErr = err
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(backoff(attempt)):
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		t.revision = rev
		t.stampVersions(rev)
		return t, nil
	}
	return nil, lastErr
}

// load reads an instance for a read-only call; field names the request
// field that gave the instance name.
func (s *Server) load(ctx context.Context, field, instance string) (*store.Loaded, error) {
	if err := model.CheckInstanceName(field, instance).Err(); err != nil {
		return nil, err
	}
	return s.store.Load(ctx, instance)
}

func instanceOf(name string) string {
	if name == "" {
		return model.DefaultInstance
	}
	return name
}

// backoff is a jittered exponential delay before retrying a conflicting
// write (2 ms doubling, capped at 250 ms).
func backoff(attempt int) time.Duration {
	d := min(2*time.Millisecond<<attempt, 250*time.Millisecond)
	return d/2 + rand.N(d/2+1)
}
