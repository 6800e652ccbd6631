package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/model"
)

// DefaultRequestTimeout bounds one etcd call of an admin request when the
// caller sets no earlier deadline.
const DefaultRequestTimeout = 5 * time.Second

// probeInterval is how often Watch checks that etcd answers a read that
// needs its quorum.
const probeInterval = time.Second

// health tracks whether etcd serves this store, for apigw_store_connected
// and for reads served from the watched view while it does not.
type health struct {
	down  atomic.Bool
	since atomic.Int64 // unix nanoseconds of the last change
}

// Connected reports whether etcd answered the last call or probe that
// needs its quorum, and since when that is so.
func (s *Store) Connected() (bool, time.Time) {
	return !s.health.down.Load(), time.Unix(0, s.health.since.Load())
}

func (s *Store) setConnected(ok bool) {
	if s.health.down.Load() == !ok {
		return
	}
	if s.health.down.CompareAndSwap(ok, !ok) {
		s.health.since.Store(time.Now().UnixNano())
		if ok {
			s.m.connected.Set(1)
			s.log.Info("etcd answers again")
		} else {
			s.m.connected.Set(0)
			s.log.Warn("etcd cannot serve requests (no quorum, or unreachable); data-plane components keep serving the last snapshot")
		}
	}
}

// SetRequestTimeout sets the bound of one etcd call of an admin request
// (DefaultRequestTimeout unless set).
func (s *Store) SetRequestTimeout(d time.Duration) { s.timeout = d }

// callContext bounds one etcd call: by the store's request timeout, and
// to end before the caller's deadline (by a fifth of the time left, at most
// a second), so that the caller gets UNAVAILABLE rather than its own
// deadline. It also makes etcd fail at
// once rather than wait when its member has no leader.
func (s *Store) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	budget := s.timeout
	if budget <= 0 {
		budget = DefaultRequestTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if margin := min(max(left/5, 50*time.Millisecond), time.Second); left-margin < budget {
			budget = max(left-margin, time.Millisecond)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, budget)
	return clientv3.WithRequireLeader(cctx), cancel
}

// unavailable turns an etcd error into model.ErrUnavailable with a message
// naming etcd and its quorum when the cluster could not serve the call
// (and records the store as disconnected); other errors pass unchanged.
// write says whether the call was a write, whose outcome a timeout leaves
// open.
func (s *Store) unavailable(ctx context.Context, err error, write bool, started time.Time) error {
	if err == nil {
		s.setConnected(true)
		return nil
	}
	if ctx.Err() != nil {
		return err // the caller gave up or went away
	}
	var why string
	switch {
	case errors.Is(err, rpctypes.ErrNoLeader), strings.Contains(err.Error(), "no leader"):
		why = "the etcd member has no leader: the cluster has lost quorum (a majority of its members is down or cut off)"
		write = false // refused before it was proposed
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, rpctypes.ErrTimeout),
		errors.Is(err, rpctypes.ErrTimeoutDueToLeaderFail), errors.Is(err, rpctypes.ErrTimeoutDueToConnectionLost),
		errors.Is(err, rpctypes.ErrLeaderChanged), errors.Is(err, rpctypes.ErrTimeoutWaitAppliedIndex),
		status.Code(err) == codes.DeadlineExceeded:
		why = fmt.Sprintf("etcd did not answer within %v: the cluster has no quorum or cannot be reached", time.Since(started).Round(time.Millisecond))
	case status.Code(err) == codes.Unavailable, errors.Is(err, rpctypes.ErrStopped), errors.Is(err, rpctypes.ErrNotCapable):
		why = "etcd cannot be reached: " + err.Error()
	default:
		return err
	}
	s.setConnected(false)
	if write {
		why += "; the write may still be applied if etcd recovers, so read the object before retrying"
	} else {
		why += "; nothing was written"
	}
	return fmt.Errorf("%w: %s", model.ErrUnavailable, why)
}

// probe checks every probeInterval that etcd answers a read that needs
// its quorum, until ctx ends.
func (s *Store) probe(ctx context.Context) {
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, 2*probeInterval)
		started := time.Now()
		_, err := s.cli.Get(clientv3.WithRequireLeader(pctx), GenerationKey(model.DefaultInstance), clientv3.WithCountOnly())
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			s.setConnected(true)
		} else if err := s.unavailable(ctx, err, false, started); !errors.Is(err, model.ErrUnavailable) {
			s.log.Debug("etcd probe failed", "err", err)
		}
	}
}
