package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
)

func exclusive(api, user, app, ip int32) *apigwv1.Throttle {
	return &apigwv1.Throttle{Id: fx.Exclusive, Name: "exclusive_policy", ApiCallLimits: api, UserCallLimits: user, AppCallLimits: app, IpCallLimits: ip,
		TimeInterval: 1, TimeUnit: model.UnitMinute, Type: model.ThrottleExclusive}
}

// Policy edits and bindings apply on the next call; editing a limit keeps
// the running count.
func TestLiveChanges(t *testing.T) {
	e := start(t, nil)
	in := e.feed.Current().Instance(fx.Instance)
	for range 6 {
		e.do(t, call{api: fx.APIExclusive})
	}
	// Lower the API limit to 6: the 6 calls already made count.
	e.feed.Publish(fx.Edit(2, in, exclusive(6, 0, 0, 0)))
	if r := e.do(t, call{api: fx.APIExclusive}); r.OverallCode != OVER {
		t.Fatal("lowered limit ignored or counter reset")
	}
	// Raise it to 8: two more.
	e.feed.Publish(fx.Edit(3, in, exclusive(8, 0, 0, 0)))
	e.okUntil(t, 2, call{api: fx.APIExclusive})

	// Bind the exclusive policy to the API that had the instance default.
	e.feed.Publish(fx.Edit(4, in, exclusive(8, 0, 0, 0), &apigwv1.ThrottleBinding{Id: "b9", ApiId: fx.APIDefault, EnvId: fx.Env, StrategyId: fx.Exclusive}))
	r := e.okUntil(t, 8, call{api: fx.APIDefault})
	if r.Statuses[0].CurrentLimit.GetName() != "exclusive_policy" {
		t.Fatalf("limit %v", r.Statuses[0].CurrentLimit)
	}
	// Unbind: back to the instance default.
	e.feed.Publish(fx.Snapshot(5))
	if r := e.do(t, call{api: fx.APIDefault}); r.OverallCode != OK || r.Statuses[0].CurrentLimit.GetRequestsPerUnit() != fx.APILimits {
		t.Fatalf("after unbinding: %v", r.Statuses[0])
	}
	// A new special quota applies at once.
	edited := exclusive(100, 0, 50, 0)
	edited.Specials = []*apigwv1.ThrottleSpecial{{Id: "s", ObjectType: model.SpecialApp, ObjectId: fx.AppSpecialHigh, CallLimits: 1}}
	e.feed.Publish(fx.Edit(6, in, edited))
	e.okUntil(t, 1, call{api: fx.APIExclusive, app: fx.AppSpecialHigh})
}

// Without a snapshot yet, everything is OK.
func TestNoSnapshotYet(t *testing.T) {
	svc, err := ratelimit.New(live.NewFeed(), counter.NewMemory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.ShouldRateLimit(t.Context(), call{api: fx.APIExclusive}.request())
	if err != nil || r.OverallCode != OK {
		t.Fatalf("%v %v", r, err)
	}
}

// Many concurrent clients through gRPC: exactly the limit is admitted.
func TestExactUnderConcurrency(t *testing.T) {
	e := start(t, nil)
	e.feed.Publish(fx.Edit(2, e.feed.Current().Instance(fx.Instance), exclusive(1000, 0, 300, 0)))
	apps := []string{fx.AppPlain, fx.AppSpecialHigh, "app-x", "app-y"}
	var ok [4]atomic.Int64
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 25 {
				a := (g + i) % len(apps)
				r, err := e.client.ShouldRateLimit(context.Background(), call{api: fx.APIExclusive, app: apps[a]}.request())
				if err != nil {
					t.Error(err)
					return
				}
				if r.OverallCode == OK {
					ok[a].Add(1)
				}
			}
		})
	}
	wg.Wait()
	// 1600 calls, 400 per app: the plain app's credential quota (5 per
	// hour) caps it; the others get the app limit, 300.
	want := []int64{5, 300, 300, 300}
	for a := range apps {
		if got := ok[a].Load(); got != want[a] {
			t.Errorf("%s: %d admitted, want %d", apps[a], got, want[a])
		}
	}
}

type failing struct{ calls atomic.Int64 }

func (f *failing) Take(context.Context, time.Time, []counter.Item, []counter.Result) error {
	f.calls.Add(1)
	return errors.New("redis: connection refused")
}

func TestCounterFailureModes(t *testing.T) {
	t.Run("open", func(t *testing.T) {
		e := start(t, &failing{}, ratelimit.WithFailureMode(ratelimit.FailOpen))
		for range 20 {
			r := e.do(t, call{api: fx.APIExclusive, app: fx.AppPlain, debug: true})
			if r.OverallCode != OK || len(r.ResponseHeadersToAdd) != 0 {
				t.Fatalf("fail open: %v", r)
			}
		}
		if got := metric(t, e.reg, "apigw_ratelimit_counter_failures_total", map[string]string{"mode": "open"}); got != 20 {
			t.Errorf("counter_failures_total = %v", got)
		}
	})
	t.Run("closed by default", func(t *testing.T) {
		e := start(t, &failing{})
		r := e.do(t, call{api: fx.APIExclusive, app: fx.AppPlain})
		if r.OverallCode != OVER || len(r.RawBody) == 0 {
			t.Fatalf("fail closed: %v", r)
		}
		if got := metric(t, e.reg, "apigw_ratelimit_counter_failures_total", map[string]string{"mode": "closed"}); got != 1 {
			t.Errorf("counter_failures_total = %v", got)
		}
		// Calls without any limit do not touch the counter.
		if r := e.do(t, call{api: fx.APIOffline}); r.OverallCode != OK {
			t.Fatalf("unlimited call: %v", r)
		}
	})
}
