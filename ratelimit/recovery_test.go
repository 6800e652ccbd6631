package ratelimit_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/internal/grpcopts"
	"github.com/apigw/apigw/internal/recovery"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
)

// panicky is a memory counter that panics on a take of 7 hits.
type panicky struct{ *counter.Memory }

func (p panicky) Take(ctx context.Context, now time.Time, items []counter.Item, results []counter.Result) error {
	for _, it := range items {
		if it.Hits == 7 {
			var m map[string]int
			//lint:ignore SA5000 the panic is the point
			m["boom"]++ // a real runtime panic
		}
	}
	return p.Memory.Take(ctx, now, items, results)
}

// A panic while the RLS answers a call (its handler reads and writes the
// wire form itself) is recovered by apigw's interceptor, served with the
// data-plane options as the binary serves it: the call fails with
// INTERNAL, is logged and counted, and the service goes on answering
// exactly as before, the memory of requests reused or not.
func TestPanicInTheHandlerIsRecovered(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		t.Run(map[bool]string{false: "requests left to interceptors", true: "requests reused"}[reuse], func(t *testing.T) {
			var logs testutil.Buffer
			reg := prometheus.NewRegistry()
			feed := live.NewFeed()
			feed.Publish(fx.Snapshot(1))
			clock := newClock()
			opts := []ratelimit.Option{ratelimit.WithClock(clock)}
			if reuse {
				opts = append(opts, ratelimit.WithRequestReuse())
			}
			svc, err := ratelimit.New(feed, panicky{counter.NewMemory()}, nil, opts...)
			if err != nil {
				t.Fatal(err)
			}
			// The same counter type (with an over-limit cache, as a
			// remote counter) for the calls that do not panic.
			direct, err := ratelimit.New(feed, panicky{counter.NewMemory()}, nil, ratelimit.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			rec := recovery.New(slog.New(slog.NewTextHandler(&logs, nil)), reg)
			g := grpc.NewServer(append(rec.ServerOptions("ratelimit"), grpcopts.DataPlane(grpcopts.RateLimitWorkersPerCPU)...)...)
			svc.Register(g)
			conn := testutil.ServeAndDialGRPC(t, g)
			client := rlsv3.NewRateLimitServiceClient(conn)

			calls := []call{
				{api: fx.APIExclusive, app: fx.AppPlain, ip: "10.0.0.1"},
				{api: fx.APIDefault, hits: 7}, // panics
				{api: fx.APIShared1, app: fx.AppSpecialLow, account: "acct-1", requestID: "r1", method: "GET", path: "/x"},
				{api: fx.APIDefault, ip: "10.0.0.2", hits: 7}, // panics
			}
			panics := 0
			for i := range 40 {
				c := calls[i%len(calls)]
				got, err := client.ShouldRateLimit(t.Context(), c.request())
				if c.hits == 7 {
					panics++
					if status.Code(err) != grpccodes.Internal {
						t.Fatalf("call %d: %v, want INTERNAL", i, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("call %d after a recovered panic: %v", i, err)
				}
				want, _ := direct.ShouldRateLimit(t.Context(), c.request())
				if !proto.Equal(got, want) {
					t.Fatalf("call %d %+v:\nserved %v\nwant   %v", i, c, got, want)
				}
			}
			if got := metric(t, reg, "apigw_grpc_panics_total", map[string]string{"server": "ratelimit", "method": rlsv3.RateLimitService_ShouldRateLimit_FullMethodName}); got != float64(panics) {
				t.Errorf("apigw_grpc_panics_total = %v, want %d", got, panics)
			}
			if !strings.Contains(logs.String(), "panic in gRPC handler recovered") || !strings.Contains(logs.String(), "assignment to entry in nil map") {
				t.Errorf("no log line for the panic: %q", logs.String())
			}
		})
	}
}
