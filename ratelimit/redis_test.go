package ratelimit_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
	"github.com/apigw/apigw/ratelimit/internal/redistest"
)

// Two service replicas share counters through Redis.
func TestReplicasShareRedis(t *testing.T) {
	srv := redistest.Start(t)
	replica := func() *env {
		c, err := counter.OpenRedis(srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return start(t, c)
	}
	a, b := replica(), replica()
	// app-low: special quota 2 per minute; its credential quota 5 per hour.
	a.do(t, call{api: fx.APIExclusive, app: fx.AppSpecialLow})
	b.do(t, call{api: fx.APIExclusive, app: fx.AppSpecialLow})
	if r := a.do(t, call{api: fx.APIExclusive, app: fx.AppSpecialLow}); r.OverallCode != OVER || r.Statuses[1].Code != OVER {
		t.Fatalf("third call across replicas: %v", codes(r))
	}
	// Credential quota across APIs and replicas: 2 used, 3 left.
	b.do(t, call{api: fx.APIDefault, app: fx.AppSpecialLow})
	a.do(t, call{api: fx.APIShared1, app: fx.AppSpecialLow})
	b.do(t, call{api: fx.APIDefault, app: fx.AppSpecialLow})
	r := a.do(t, call{api: fx.APIDefault, app: fx.AppSpecialLow})
	if r.OverallCode != OVER || r.DynamicMetadata.GetFields()["error_code"].GetStringValue() != "APIG.0501" {
		t.Fatalf("6th call: %v %v", codes(r), r.DynamicMetadata)
	}

	// Exact under concurrency through both replicas.
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := range 32 {
		e := a
		if g%2 == 1 {
			e = b
		}
		wg.Go(func() {
			for range 30 {
				resp, err := e.client.ShouldRateLimit(t.Context(), call{api: fx.APIDefault}.request())
				if err != nil {
					t.Error(err)
					return
				}
				if resp.OverallCode == OK {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	// 960 calls against 500 per second; 2 were admitted above (the 6th
	// call was refused as a whole, its api hit not counted).
	if got := ok.Load(); got != fx.APILimits-2 {
		t.Errorf("%d admitted, want %d", got, fx.APILimits-2)
	}
}

// A Redis outage gives the configured answer, and no crash.
func TestRedisOutageFailureModes(t *testing.T) {
	for _, mode := range []ratelimit.FailureMode{ratelimit.FailOpen, ratelimit.FailClosed} {
		t.Run(mode.String(), func(t *testing.T) {
			srv := redistest.Start(t)
			c, err := counter.OpenRedis(srv.Addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			e := start(t, c, ratelimit.WithFailureMode(mode))
			if r := e.do(t, call{api: fx.APIExclusive}); r.OverallCode != OK {
				t.Fatal("first call refused")
			}
			srv.Stop()
			want := OK
			if mode == ratelimit.FailClosed {
				want = OVER
			}
			for range 5 {
				if r := e.do(t, call{api: fx.APIExclusive, app: fx.AppPlain}); r.OverallCode != want {
					t.Fatalf("with Redis down: %v, want %v", r.OverallCode, want)
				}
			}
			if got := metric(t, e.reg, "apigw_ratelimit_counter_failures_total", map[string]string{"mode": mode.String()}); got != 5 {
				t.Errorf("counter_failures_total = %v, want 5", got)
			}
		})
	}
}
