package extauth_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// noopServer allows everything: the baseline for the gRPC overhead.
type noopServer struct {
	authv3.UnimplementedAuthorizationServer
}

func (noopServer) Check(context.Context, *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	return &authv3.CheckResponse{Status: &rpcstatus.Status{}}, nil
}

func serveGRPC(b *testing.B, register func(*grpc.Server)) authv3.AuthorizationClient {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer()
	register(gs)
	go gs.Serve(lis)
	b.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return authv3.NewAuthorizationClient(conn)
}

// BenchmarkGRPC measures loopback gRPC throughput and latency of an APP
// signature check at 1, 16 and 64 requests in flight against apigw and, in
// the same run, a no-op ext_authz server given the same request. The two
// alternate in ten rounds so that both see the same machine load. Run with
//
//	go test ./extauth -run '^$' -bench BenchmarkGRPC -benchtime 40000x
func BenchmarkGRPC(b *testing.B) {
	h := newHarness(b, newFixture("", nil).instance(b))
	req := signed("api-sig", "GET", "/items/42?b=2&a=1", map[string]string{"Content-Type": "application/json"}, "", key1, secret1, testNow).checkRequest()
	noop := serveGRPC(b, func(g *grpc.Server) { authv3.RegisterAuthorizationServer(g, noopServer{}) })
	apigw := serveGRPC(b, h.srv.Register)
	for _, inflight := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			var noopRes, apigwRes loadResult
			const rounds = 10
			per := max(b.N/(2*rounds), inflight)
			for range rounds {
				noopRes.add(runLoad(b, noop, req, inflight, per))
				apigwRes.add(runLoad(b, apigw, req, inflight, per))
			}
			b.ReportMetric(noopRes.rate(), "noop-req/s")
			b.ReportMetric(apigwRes.rate(), "apigw-req/s")
			b.ReportMetric(100*apigwRes.rate()/noopRes.rate(), "apigw-%-of-noop")
			b.ReportMetric(noopRes.pct(0.50), "noop-p50-µs")
			b.ReportMetric(apigwRes.pct(0.50), "apigw-p50-µs")
			b.ReportMetric(noopRes.pct(0.99), "noop-p99-µs")
			b.ReportMetric(apigwRes.pct(0.99), "apigw-p99-µs")
		})
	}
}

type loadResult struct {
	elapsed time.Duration
	lat     []time.Duration
}

func (r *loadResult) add(o loadResult) {
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
}

func (r *loadResult) rate() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

func (r *loadResult) pct(p float64) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	slices.Sort(r.lat)
	return float64(r.lat[int(p*float64(len(r.lat)-1))].Microseconds())
}

// runLoad sends n checks with inflight concurrent callers.
func runLoad(b *testing.B, client authv3.AuthorizationClient, req *authv3.CheckRequest, inflight, n int) loadResult {
	ctx := context.Background()
	if resp, err := client.Check(ctx, req); err != nil || resp.GetStatus().GetCode() != 0 {
		b.Fatalf("warm-up: %v %v", err, resp)
	}
	var next atomic.Int64
	lat := make([][]time.Duration, inflight)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range inflight {
		lat[g] = make([]time.Duration, 0, n/inflight+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				if _, err := client.Check(ctx, req); err != nil {
					b.Error(err)
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return loadResult{elapsed: time.Since(start), lat: slices.Concat(lat...)}
}
