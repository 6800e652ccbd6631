package ratelimit_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/ratelimit/descriptor"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
	"github.com/apigw/apigw/ratelimit/internal/redistest"
)

// noop is the floor: a gRPC RLS that answers OK without looking.
type noop struct {
	rlsv3.UnimplementedRateLimitServiceServer
}

func (noop) ShouldRateLimit(_ context.Context, req *rlsv3.RateLimitRequest) (*rlsv3.RateLimitResponse, error) {
	st := make([]*rlsv3.RateLimitResponse_DescriptorStatus, len(req.Descriptors))
	for i := range st {
		st[i] = &rlsv3.RateLimitResponse_DescriptorStatus{Code: rlsv3.RateLimitResponse_OK}
	}
	return &rlsv3.RateLimitResponse{OverallCode: rlsv3.RateLimitResponse_OK, Statuses: st}, nil
}

// benchSnapshot is the fixture with limits nothing reaches: the instance
// allows 1e6/s and the exclusive policy 1e6 calls per second per app, as
// in anchors §2.1 (limit 1e9, never over).
func benchSnapshot() *model.Snapshot {
	in := fx.NewInstance()
	objs := []proto.Message{
		&apigwv1.Instance{Name: fx.Instance, Config: &apigwv1.InstanceConfig{Ratelimit: &apigwv1.RatelimitFeature{ApiLimits: model.MaxAPILimits}}},
		&apigwv1.Throttle{Id: fx.Exclusive, Name: "bench", ApiCallLimits: model.MaxAPILimits, UserCallLimits: model.MaxAPILimits,
			AppCallLimits: model.MaxAPILimits, IpCallLimits: model.MaxAPILimits, TimeInterval: 1, TimeUnit: model.UnitSecond, Type: model.ThrottleExclusive},
	}
	return fx.Edit(1, in, objs...)
}

// benchRequests returns 1000 requests with random-ish subjects.
// single: one app descriptor per request (the reference's shape);
// otherwise what a real route sends: api, user, app, ip, request.
func benchRequests(single bool) []*rlsv3.RateLimitRequest {
	out := make([]*rlsv3.RateLimitRequest, 1000)
	for i := range out {
		app := "app-" + strconv.Itoa(i*7919%1000)
		if single {
			d := descriptor.Descriptor{Instance: fx.Instance, API: fx.APIExclusive, Env: fx.Env, Dim: descriptor.DimApp, Subject: app}
			rd := &ratelimitv3.RateLimitDescriptor{}
			for _, e := range d.Entries() {
				rd.Entries = append(rd.Entries, &ratelimitv3.RateLimitDescriptor_Entry{Key: e.Key, Value: e.Value})
			}
			out[i] = &rlsv3.RateLimitRequest{Domain: descriptor.Domain, Descriptors: []*ratelimitv3.RateLimitDescriptor{rd}}
			continue
		}
		out[i] = call{api: fx.APIExclusive, account: "acct-" + strconv.Itoa(i%50), app: app,
			ip: "10.0." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250), requestID: "4f1c2d3e-" + strconv.Itoa(i), method: "GET", path: "/pets/1"}.request()
	}
	return out
}

type benchResult struct{ qps, p50, p99 float64 }

// drive runs b.N calls from inflight goroutines sharing one connection
// and reports throughput and latency percentiles.
func drive(b *testing.B, client rlsv3.RateLimitServiceClient, reqs []*rlsv3.RateLimitRequest, inflight int) benchResult {
	var next atomic.Int64
	lat := make([][]time.Duration, inflight)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range inflight {
		wg.Go(func() {
			l := make([]time.Duration, 0, b.N/inflight+1)
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					break
				}
				t0 := time.Now()
				resp, err := client.ShouldRateLimit(context.Background(), reqs[i%int64(len(reqs))])
				l = append(l, time.Since(t0))
				if err != nil || resp.OverallCode != rlsv3.RateLimitResponse_OK {
					b.Errorf("call: %v %v", err, resp.GetOverallCode())
					return
				}
			}
			lat[g] = l
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := benchResult{qps: float64(b.N) / elapsed.Seconds()}
	if len(all) > 0 {
		r.p50 = float64(all[len(all)/2].Microseconds())
		r.p99 = float64(all[len(all)*99/100].Microseconds())
	}
	b.ReportMetric(r.qps, "req/s")
	b.ReportMetric(r.p50, "p50-µs")
	b.ReportMetric(r.p99, "p99-µs")
	b.ReportMetric(0, "ns/op")
	return r
}

// BenchmarkRLS compares, side by side at 1, 16 and 64 calls in flight
// over one loopback gRPC connection: the no-op server (the floor), the
// service with the memory counter, and with the Redis counter (on a
// redis-server the benchmark starts, or APIGW_BENCH_REDIS=host:port).
// With APIGW_BENCH_REFERENCE=host:port it also drives an
// envoyproxy/ratelimit there (config: domain "bench", descriptor key
// "app" with a huge limit, see README) with the same one-descriptor
// requests. It ends with throughput ratios to the floor (go test -v).
// Run with -benchtime=3s or more.
func BenchmarkRLS(b *testing.B) {
	results := map[string]benchResult{}
	for _, shape := range []string{"1desc", "route"} {
		reqs := benchRequests(shape == "1desc")
		for _, be := range benchBackends(shape) {
			for _, n := range []int{1, 16, 64} {
				name := fmt.Sprintf("%s/%s/inflight=%d", shape, be.name, n)
				b.Run(name, func(b *testing.B) {
					client, rq := be.client(b), reqs
					if be.reqs != nil {
						rq = be.reqs
					}
					results[name] = drive(b, client, rq, n)
				})
			}
		}
	}
	for _, shape := range []string{"1desc", "route"} {
		for _, n := range []int{1, 16, 64} {
			floor := results[fmt.Sprintf("%s/noop/inflight=%d", shape, n)]
			for _, be := range []string{"memory", "redis", "reference"} {
				r, ok := results[fmt.Sprintf("%s/%s/inflight=%d", shape, be, n)]
				if ok && floor.qps > 0 {
					b.Logf("%-5s %-9s inflight=%-2d %6.0f req/s = %3.0f%% of the floor (%6.0f), p50 %5.0fµs p99 %5.0fµs (floor p99 %5.0fµs)",
						shape, be, n, r.qps, 100*r.qps/floor.qps, floor.qps, r.p50, r.p99, floor.p99)
				}
			}
		}
	}
}

type benchBackend struct {
	name   string
	client func(b *testing.B) rlsv3.RateLimitServiceClient
	reqs   []*rlsv3.RateLimitRequest // requests of its own (reference)
}

func benchBackends(shape string) []benchBackend {
	bes := []benchBackend{
		{name: "noop", client: func(b *testing.B) rlsv3.RateLimitServiceClient {
			return serve(b, func(g *grpc.Server) { rlsv3.RegisterRateLimitServiceServer(g, noop{}) })
		}},
		{name: "memory", client: func(b *testing.B) rlsv3.RateLimitServiceClient { return serve(b, service(b, counter.NewMemory())) }},
		{name: "redis", client: func(b *testing.B) rlsv3.RateLimitServiceClient {
			addr := os.Getenv("APIGW_BENCH_REDIS")
			if addr == "" {
				addr = redistest.Start(b).Addr
			}
			c, err := counter.OpenRedis(addr)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = c.Close() })
			return serve(b, service(b, c))
		}},
	}
	if addr := os.Getenv("APIGW_BENCH_REFERENCE"); addr != "" && shape == "1desc" {
		reqs := make([]*rlsv3.RateLimitRequest, 1000)
		for i := range reqs {
			reqs[i] = &rlsv3.RateLimitRequest{Domain: "bench", Descriptors: []*ratelimitv3.RateLimitDescriptor{{
				Entries: []*ratelimitv3.RateLimitDescriptor_Entry{{Key: "app", Value: "app-" + strconv.Itoa(i*7919%1000)}},
			}}}
		}
		bes = append(bes, benchBackend{name: "reference", reqs: reqs, client: func(b *testing.B) rlsv3.RateLimitServiceClient {
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = conn.Close() })
			return rlsv3.NewRateLimitServiceClient(conn)
		}})
	}
	return bes
}
func service(b *testing.B, c counter.Counter) func(*grpc.Server) {
	feed := model.NewFeed()
	feed.Publish(benchSnapshot())
	svc, err := ratelimit.New(feed, c, nil)
	if err != nil {
		b.Fatal(err)
	}
	return svc.Register
}
