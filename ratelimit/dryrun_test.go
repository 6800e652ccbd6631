package ratelimit_test

import (
	"testing"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"

	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
)

// A dry-run service over the live service's counter answers what the live
// one would answer for the next call, and never uses up a hit: however
// many dry runs, the live service still admits exactly the limit.
func TestDryRunReadsWithoutCounting(t *testing.T) {
	mem := counter.NewMemory()
	live := start(t, mem)
	dry := start(t, mem, ratelimit.WithDryRun())
	dry.clock = live.clock
	c := call{api: fx.APIExclusive, app: fx.AppPlain, ip: "10.1.1.1"} // app limit 3 per minute
	for i := range 3 {
		for range 5 {
			if r := dry.do(t, c); r.OverallCode != rlsv3.RateLimitResponse_OK {
				t.Fatalf("dry run before live call %d: %v, want OK", i+1, r.OverallCode)
			}
		}
		r := dry.do(t, c)
		if got, want := r.Statuses[1].LimitRemaining, uint32(2-i); got != want {
			t.Fatalf("dry run before live call %d: app remaining %d, want %d", i+1, got, want)
		}
		if r := live.do(t, c); r.OverallCode != rlsv3.RateLimitResponse_OK {
			t.Fatalf("live call %d: %v, want OK (dry runs must not count)", i+1, r.OverallCode)
		}
	}
	if r := dry.do(t, c); r.OverallCode != rlsv3.RateLimitResponse_OVER_LIMIT || r.Statuses[1].Code != rlsv3.RateLimitResponse_OVER_LIMIT {
		t.Fatalf("dry run after the limit: %v %v, want the app descriptor OVER_LIMIT", r.OverallCode, codes(r))
	}
	if r := live.do(t, c); r.OverallCode != rlsv3.RateLimitResponse_OVER_LIMIT {
		t.Fatalf("live call 4: %v, want OVER_LIMIT", r.OverallCode)
	}
}
