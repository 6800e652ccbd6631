package ratelimit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A window the counter cannot count (a period beyond what a duration
// holds) never switches a limit off: the call is refused, logged and
// counted, even when the service fails open for an unreachable counter.
func TestCounterErrorsFailClosed(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []ratelimit.Option
	}{{"default", nil}, {"fail-open", []ratelimit.Option{ratelimit.WithFailureMode(ratelimit.FailOpen)}}} {
		t.Run(mode.name, func(t *testing.T) {
			var logs syncBuffer
			reg := prometheus.NewRegistry()
			feed := model.NewFeed()
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
	e.feed.Publish(model.NewSnapshot(2, map[string]*model.Instance{fx.Instance: in}, nil))

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
