package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
)

// A window the counter cannot count (a period beyond what a duration
// holds) never switches a limit off: the call is refused, logged and
// counted, even when the service fails open for an unreachable counter.
func TestCounterErrorsFailClosed(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []ratelimit.Option
	}{{"default", nil}, {"fail-open", []ratelimit.Option{ratelimit.WithFailureMode(ratelimit.FailOpen)}}} {
		t.Run(mode.name, func(t *testing.T) {
			var logs testutil.Buffer
			reg := prometheus.NewRegistry()
			feed := live.NewFeed()
			huge := &apigwv1.Throttle{Id: fx.Exclusive, Name: "exclusive_policy", ApiCallLimits: 10,
				TimeInterval: 2147483647, TimeUnit: model.UnitMinute, Type: model.ThrottleExclusive}
			feed.Publish(fx.Edit(1, fx.NewInstance(), huge))
			svc, err := ratelimit.New(feed, counter.NewMemory(), slog.New(slog.NewTextHandler(&logs, nil)),
				append([]ratelimit.Option{ratelimit.WithRegisterer(reg)}, mode.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := svc.ShouldRateLimit(context.Background(), call{api: fx.APIExclusive}.request())
			if err != nil {
				t.Fatal(err)
			}
			if resp.OverallCode != OVER {
				t.Fatalf("overall %v, want OVER_LIMIT (a limit whose window cannot be counted must not be switched off)", resp.OverallCode)
			}
			if got := metric(t, reg, "apigw_ratelimit_counter_failures_total", map[string]string{"mode": "closed"}); got != 1 {
				t.Errorf("counter_failures_total{mode=closed} = %v, want 1", got)
			}
			if !strings.Contains(logs.String(), "rate-limit counter failed") {
				t.Errorf("no log line: %q", logs.String())
			}
		})
	}
}

// A throttling policy or credential quota that cannot be read (apigw
// restarted with it invalid in etcd, or it was deleted around the admin
// API) never turns into no limit: every call is refused with APIG.0601,
// even from an Envoy that still has the old routes.
func TestUnreadablePoliciesFailClosed(t *testing.T) {
	e := start(t, nil)
	var objs []proto.Message
	for _, o := range fx.Objects() {
		switch v := o.(type) {
		case *apigwv1.Throttle:
			if v.Id == fx.Exclusive {
				continue
			}
		case *apigwv1.AppQuota:
			continue
		}
		objs = append(objs, o)
	}
	in := model.NewInstanceWith(fx.Instance, objs, []model.Placeholder{{Kind: model.KindThrottle, ID: fx.Exclusive, Reason: "not a valid throttle"}})
	e.feed.Publish(live.NewSnapshot(2, map[string]*model.Instance{fx.Instance: in}, nil))

	for _, c := range []call{
		{api: fx.APIExclusive},                         // its policy cannot be read
		{api: fx.APIDefault, app: fx.AppPlain},         // the app's quota is gone
		{api: fx.APIExclusive, app: fx.AppSpecialHigh}, // both
	} {
		r := e.do(t, c)
		if r.OverallCode != OVER {
			t.Fatalf("%+v: %v, want OVER_LIMIT", c, r.OverallCode)
		}
		var body map[string]string
		if err := json.Unmarshal(r.RawBody, &body); err != nil {
			t.Fatalf("body %q: %v", r.RawBody, err)
		}
		md := r.GetDynamicMetadata().GetFields()
		if md["error_code"].GetStringValue() != "APIG.0601" || md["status"].GetNumberValue() != 500 {
			t.Errorf("%+v: metadata %v body %s", c, md, r.RawBody)
		}
	}
	// An API whose policy is intact, called by an app without a quota.
	if r := e.do(t, call{api: fx.APIShared1, env: fx.Env, app: fx.AppSpecialHigh}); r.OverallCode != OK {
		t.Errorf("unaffected API: %v", r.OverallCode)
	}
}

// flaky is a memory counter that fails while down, as an unreachable
// Redis; being no *counter.Memory, the service keeps an over-limit cache
// for it, as for Redis.
type flaky struct {
	*counter.Memory
	down  atomic.Bool
	calls atomic.Int64
}

func (f *flaky) Take(ctx context.Context, now time.Time, items []counter.Item, results []counter.Result) error {
	f.calls.Add(1)
	if f.down.Load() {
		return errors.New("redis: connection refused")
	}
	return f.Memory.Take(ctx, now, items, results)
}

// unreadable returns the fixture's snapshot with the exclusive policy
// unreadable and the credential quota gone (see
// TestUnreadablePoliciesFailClosed).
func unreadable(version int64) *live.Snapshot {
	var objs []proto.Message
	for _, o := range fx.Objects() {
		switch v := o.(type) {
		case *apigwv1.Throttle:
			if v.Id == fx.Exclusive {
				continue
			}
		case *apigwv1.AppQuota:
			continue
		}
		objs = append(objs, o)
	}
	in := model.NewInstanceWith(fx.Instance, objs, []model.Placeholder{{Kind: model.KindThrottle, ID: fx.Exclusive, Reason: "not a valid throttle"}})
	return live.NewSnapshot(version, map[string]*model.Instance{fx.Instance: in}, nil)
}

// An API held closed, or an app whose credential quota is gone, is
// refused whatever the counter's state: a counter that cannot be reached
// with --ratelimit-fail-open does not open it (the counter is not even
// asked: it would refuse the call and count nothing), debug calls
// included; the answer is the one the service gives as a message.
func TestUnavailableLimitsRefuseWhateverTheCounter(t *testing.T) {
	for _, mode := range []ratelimit.FailureMode{ratelimit.FailOpen, ratelimit.FailClosed} {
		for _, down := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/down=%v", mode, down), func(t *testing.T) {
				c := &flaky{Memory: counter.NewMemory()}
				c.down.Store(down)
				e := start(t, c, ratelimit.WithFailureMode(mode))
				e.feed.Publish(unreadable(2))
				direct, err := ratelimit.New(e.feed, counter.NewMemory(), nil, ratelimit.WithClock(e.clock))
				if err != nil {
					t.Fatal(err)
				}
				for _, cl := range []call{
					{api: fx.APIExclusive},
					{api: fx.APIExclusive, app: fx.AppSpecialHigh, account: "acct-1", ip: "10.0.0.1", debug: true},
					{api: fx.APIDefault, app: fx.AppPlain},
					{api: fx.APIShared1, app: fx.AppPlain, ip: "10.0.0.1", debug: true},
				} {
					for range 3 {
						r := e.do(t, cl)
						md := r.GetDynamicMetadata().GetFields()
						if r.OverallCode != OVER || md["error_code"].GetStringValue() != "APIG.0601" || md["status"].GetNumberValue() != 500 {
							t.Fatalf("%+v: %v %v", cl, r.OverallCode, md)
						}
						want, _ := direct.ShouldRateLimit(t.Context(), cl.request())
						if !proto.Equal(r, want) {
							t.Fatalf("%+v:\nwire    %v\nmessage %v", cl, r, want)
						}
					}
				}
				if n := c.calls.Load(); n != 0 {
					t.Errorf("the counter was asked %d times for calls refused anyway", n)
				}
			})
		}
	}
}

// Refusals that come from a condition, not from a count, last as long as
// the condition: once the counter answers again, or the policy can be
// read again, calls are admitted at once (the over-limit cache keeps only
// the counter's own refusals).
func TestFailClosedAnswersAreNotCached(t *testing.T) {
	c := &flaky{Memory: counter.NewMemory()}
	e := start(t, c)
	admitted := call{api: fx.APIShared1, app: fx.AppSpecialHigh, ip: "10.0.0.1"}
	if r := e.do(t, admitted); r.OverallCode != OK {
		t.Fatalf("before: %v", r.OverallCode)
	}
	c.down.Store(true)
	for range 3 {
		if r := e.do(t, admitted); r.OverallCode != OVER {
			t.Fatalf("counter down: %v, want OVER_LIMIT", r.OverallCode)
		}
	}
	c.down.Store(false)
	if r := e.do(t, admitted); r.OverallCode != OK {
		t.Fatalf("counter back: %v, want OK", r.OverallCode)
	}

	blocked := call{api: fx.APIExclusive, app: fx.AppPlain}
	e.feed.Publish(unreadable(2))
	for range 3 {
		if r := e.do(t, blocked); r.OverallCode != OVER {
			t.Fatalf("policy unreadable: %v, want OVER_LIMIT", r.OverallCode)
		}
	}
	e.feed.Publish(fx.Snapshot(3))
	if r := e.do(t, blocked); r.OverallCode != OK {
		t.Fatalf("policy readable again: %v, want OK", r.OverallCode)
	}
	if got := metric(t, e.reg, "apigw_ratelimit_over_limit_cache_answers_total", nil); got != 0 {
		t.Errorf("%v answers from the over-limit cache", got)
	}
}
