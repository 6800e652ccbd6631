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
// signature check at 1, 16 and 64 requests in flight, side by side with a
// no-op ext_authz server given the same request. Run with
//
//	go test ./extauth -run '^$' -bench BenchmarkGRPC -benchtime 20000x
func BenchmarkGRPC(b *testing.B) {
	h := newHarness(b, newFixture("", nil).instance(b))
	req := signed("api-app", "GET", "/pets/42?b=2&a=1", map[string]string{"Content-Type": "application/json"}, "", key1, secret1, testNow).checkRequest()
	clients := []struct {
		name   string
		client authv3.AuthorizationClient
	}{
		{"noop", serveGRPC(b, func(g *grpc.Server) { authv3.RegisterAuthorizationServer(g, noopServer{}) })},
		{"apigw", serveGRPC(b, h.srv.Register)},
	}
	for _, inflight := range []int{1, 16, 64} {
		for _, c := range clients {
			b.Run(fmt.Sprintf("inflight=%d/%s", inflight, c.name), func(b *testing.B) {
				runLoad(b, c.client, req, inflight)
			})
		}
	}
}

func runLoad(b *testing.B, client authv3.AuthorizationClient, req *authv3.CheckRequest, inflight int) {
	ctx := context.Background()
	if resp, err := client.Check(ctx, req); err != nil || resp.GetStatus().GetCode() != 0 {
		b.Fatalf("warm-up: %v %v", err, resp)
	}
	var next atomic.Int64
	lat := make([][]time.Duration, inflight)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range inflight {
		lat[g] = make([]time.Duration, 0, b.N/inflight+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
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
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
