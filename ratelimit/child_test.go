package ratelimit_test

import (
	"os"
	"testing"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"

	"github.com/apigw/apigw/internal/grpcopts"
	"github.com/apigw/apigw/internal/loadtest"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
)

// Roles of the benchmark's server processes (loadtest.StartChild).
const (
	roleNoop   = "rls-noop"
	roleMemory = "rls-memory"
	roleRedis  = "rls-redis"

	// envLimits selects the limits a child serves: "ok" (never reached)
	// or "over" (one call per app per second).
	envLimits = "APIGW_LOADTEST_LIMITS"
	// envRedis is the Redis of a roleRedis child, envPrefix its key
	// prefix.
	envRedis  = "APIGW_LOADTEST_REDIS"
	envPrefix = "APIGW_LOADTEST_PREFIX"
)

// TestLoadtestChild is a server process of BenchmarkRLS.
func TestLoadtestChild(t *testing.T) {
	loadtest.Child(t, func(t *testing.T, role string) *grpc.Server {
		g := grpc.NewServer(loadtest.ServerOptions(grpcopts.RateLimitWorkersPerCPU)...)
		var c counter.Counter
		switch role {
		case roleNoop:
			rlsv3.RegisterRateLimitServiceServer(g, noop{})
			return g
		case roleMemory:
			c = counter.NewMemory()
		case roleRedis:
			r, err := counter.OpenRedis(os.Getenv(envRedis), counter.WithPrefix(os.Getenv(envPrefix)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			c = r
		default:
			t.Fatalf("unknown role %q", role)
		}
		feed := live.NewFeed()
		feed.Publish(benchSnapshot(os.Getenv(envLimits) == "over"))
		svc, err := ratelimit.New(feed, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc.Register(g)
		return g
	})
}
