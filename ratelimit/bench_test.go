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

// latencies collects call latencies of one backend over all rounds.
type latencies struct {
	calls   int
	elapsed time.Duration
	all     []time.Duration
}

func (l *latencies) qps() float64 { return float64(l.calls) / l.elapsed.Seconds() }

func (l *latencies) pct(p int) float64 {
	if len(l.all) == 0 {
		return 0
	}
	slices.Sort(l.all)
	return float64(l.all[len(l.all)*p/100].Microseconds())
}

// round keeps inflight calls going for d and records them.
func round(b *testing.B, client rlsv3.RateLimitServiceClient, reqs []*rlsv3.RateLimitRequest, inflight int, d time.Duration, into *latencies) {
	var next atomic.Int64
	lat := make([][]time.Duration, inflight)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for g := range inflight {
		wg.Go(func() {
			var l []time.Duration
			for {
				i := next.Add(1) - 1
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
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
	into.elapsed += time.Since(start)
	for _, l := range lat {
		into.calls += len(l)
		into.all = append(into.all, l...)
	}
}

// BenchmarkRLS compares, side by side at 1, 16 and 64 calls in flight
// over one loopback gRPC connection: a no-op RLS (the floor), the
// service with the memory counter, and with the Redis counter (on a
// redis-server the benchmark starts, or APIGW_BENCH_REDIS=host:port);
// with APIGW_BENCH_REFERENCE=host:port also an envoyproxy/ratelimit
// there (config: domain "bench", descriptor key "app" with a limit never
// reached; see README), fed the same one-descriptor requests.
//
// Each iteration is one round in which every backend runs for 400ms in
// turn, so that noise from other work on the machine hits all of them
// alike; run e.g. -benchtime=8x. It reports each backend's throughput
// and p99 and the ratios: memory and redis to the floor, redis to the
// reference.
func BenchmarkRLS(b *testing.B) {
	const slice = 400 * time.Millisecond
	for _, shape := range []string{"1desc", "route"} {
		reqs := benchRequests(shape == "1desc")
		for _, n := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/inflight=%d", shape, n), func(b *testing.B) {
				bes := benchBackends(shape)
				clients := make([]rlsv3.RateLimitServiceClient, len(bes))
				for i, be := range bes {
					clients[i] = be.client(b)
					round(b, clients[i], reqsOf(be, reqs), n, slice/4, &latencies{}) // warm up
				}
				stats := make([]latencies, len(bes))
				b.ResetTimer()
				for range b.N {
					for i, be := range bes {
						round(b, clients[i], reqsOf(be, reqs), n, slice, &stats[i])
					}
				}
				b.StopTimer()
				qps := map[string]float64{}
				for i, be := range bes {
					qps[be.name] = stats[i].qps()
					b.ReportMetric(stats[i].qps(), be.name+"-req/s")
					b.ReportMetric(stats[i].pct(99), be.name+"-p99-µs")
				}
				b.ReportMetric(100*qps["memory"]/qps["noop"], "memory/floor-%")
				b.ReportMetric(100*qps["redis"]/qps["noop"], "redis/floor-%")
				if qps["reference"] > 0 {
					b.ReportMetric(qps["redis"]/qps["reference"], "redis/reference-x")
				}
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

func reqsOf(be benchBackend, reqs []*rlsv3.RateLimitRequest) []*rlsv3.RateLimitRequest {
	if be.reqs != nil {
		return be.reqs
	}
	return reqs
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

// BenchmarkShouldRateLimit measures the service's own work per call,
// without gRPC, on the memory counter.
func BenchmarkShouldRateLimit(b *testing.B) {
	for _, shape := range []string{"1desc", "route"} {
		b.Run(shape, func(b *testing.B) {
			feed := model.NewFeed()
			feed.Publish(benchSnapshot())
			svc, err := ratelimit.New(feed, counter.NewMemory(), nil)
			if err != nil {
				b.Fatal(err)
			}
			reqs := benchRequests(shape == "1desc")
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := svc.ShouldRateLimit(ctx, reqs[i%len(reqs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
