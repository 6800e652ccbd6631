package ratelimit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

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
