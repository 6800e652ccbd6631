package extauth_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"

	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/internal/grpcopts"
	"github.com/apigw/apigw/internal/loadtest"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/ratelimit/counter"
)

// Roles of BenchmarkGRPC's server processes (loadtest.StartChild).
const (
	roleNoop    = "extauth-noop"
	roleExtauth = "extauth"
	// envCounters is the number of live rate-limit counters a roleExtauth
	// process holds besides (an apigw serving both ext_authz and rate
	// limiting from memory).
	envCounters = "APIGW_LOADTEST_COUNTERS"
)

// TestLoadtestChild is a server process of BenchmarkGRPC.
func TestLoadtestChild(t *testing.T) {
	loadtest.Child(t, func(t *testing.T, role string) *grpc.Server {
		opts := loadtest.ServerOptions(grpcopts.ExtAuthWorkersPerCPU)
		if role == roleExtauth && os.Getenv(loadtest.DefaultsEnv) != "1" {
			opts = append(opts, extauth.ServerOptions()...)
		}
		g := grpc.NewServer(opts...)
		switch role {
		case roleNoop:
			authv3.RegisterAuthorizationServer(g, noopServer{})
		case roleExtauth:
			feed := live.NewFeed()
			in := newFixture("", nil).instance(t)
			feed.Publish(live.NewSnapshot(1, map[string]*model.Instance{in.Name: in}, nil))
			extauth.New(feed, slog.New(slog.DiscardHandler), extauth.WithClock(func() time.Time { return testNow }), extauth.WithServerName("gw-1")).Register(g)
			if n, _ := strconv.Atoi(os.Getenv(envCounters)); n > 0 {
				c := fillCounters(t, n)
				t.Cleanup(func() { _ = c.Len() }) // live as long as the server
			}
		default:
			t.Fatalf("unknown role %q", role)
		}
		return g
	})
}

// fillCounters returns a memory counter holding n live counters, keyed as
// the rate-limit service keys an exclusive policy's app counters.
func fillCounters(t *testing.T, n int) *counter.Memory {
	c := counter.NewMemory()
	out := make([]counter.Result, 1)
	w := counter.Sliding(time.Hour, 10)
	for i := range n {
		it := counter.Item{Key: "{default/RELEASE/api:api-sig}app/app-" + strconv.Itoa(1_000_000+i), Limit: 1000, Hits: 1, Window: w}
		if err := c.Take(context.Background(), time.Now(), []counter.Item{it}, out); err != nil {
			t.Fatal(err)
		}
	}
	return c
}
