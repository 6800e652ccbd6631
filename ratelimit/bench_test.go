package ratelimit_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/loadtest"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit"
	"github.com/apigw/apigw/ratelimit/counter"
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

// benchSnapshot is the fixture with the exclusive policy limiting
// every dimension: with over, an app may make one call per second and
// the others limits are never reached; otherwise nothing is (the
// instance allows 1e6/s, the policy 1e6 calls per second per api, user,
// app and ip).
func benchSnapshot(over bool) *live.Snapshot {
	in := fx.NewInstance()
	app := int32(model.MaxAPILimits)
	if over {
		app = 1
	}
	objs := []proto.Message{
		&apigwv1.Instance{Name: fx.Instance, Config: &apigwv1.InstanceConfig{Ratelimit: &apigwv1.RatelimitFeature{ApiLimits: model.MaxAPILimits}}},
		&apigwv1.Throttle{Id: fx.Exclusive, Name: "bench", ApiCallLimits: model.MaxAPILimits, UserCallLimits: model.MaxAPILimits,
			AppCallLimits: app, IpCallLimits: model.MaxAPILimits, TimeInterval: 1, TimeUnit: model.UnitSecond, Type: model.ThrottleExclusive},
	}
	return fx.Edit(1, in, objs...)
}

// benchRequests returns 1000 requests with random-ish subjects, over
// apps apps. single: one app descriptor per request (the reference's
// shape); otherwise what a real route sends: api, user, app, ip, request.
func benchRequests(single bool, apps int) []*rlsv3.RateLimitRequest {
	out := make([]*rlsv3.RateLimitRequest, 1000)
	for i := range out {
		app := "app-" + strconv.Itoa(i*7919%apps)
		if single {
			d := dataplane.RateLimitDescriptor{Instance: fx.Instance, API: fx.APIExclusive, Env: fx.Env, Dim: dataplane.RateLimitDimApp, Subject: app}
			rd := &ratelimitv3.RateLimitDescriptor{}
			for _, e := range d.Entries() {
				rd.Entries = append(rd.Entries, &ratelimitv3.RateLimitDescriptor_Entry{Key: e.Key, Value: e.Value})
			}
			out[i] = &rlsv3.RateLimitRequest{Domain: dataplane.RateLimitDomain, Descriptors: []*ratelimitv3.RateLimitDescriptor{rd}}
			continue
		}
		out[i] = call{api: fx.APIExclusive, account: "acct-" + strconv.Itoa(i%50), app: app,
			ip: "10.0." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250), requestID: "4f1c2d3e-" + strconv.Itoa(i), method: "GET", path: "/pets/1"}.request()
	}
	return out
}

// BenchmarkRLS drives, at 1, 16 and 64 calls in flight over one
// loopback gRPC connection as Envoy does, servers that each run in a
// process of their own: a no-op RLS (the floor), the service with the
// memory counter and with the Redis counter (a redis-server the benchmark
// starts, or APIGW_BENCH_REDIS=host:port), and with
// APIGW_BENCH_REFERENCE=host:port an envoyproxy/ratelimit there, running
// on the same Redis (see README for its build and configuration), fed the
// same one-descriptor requests.
//
//   - ok/...: limits never reached (every answer OK);
//   - over/...: 100 apps calling, one call per app per second admitted,
//     so that nearly every answer is OVER_LIMIT (the memory service with
//     limits never reached runs alongside as "memory-ok": over-limit
//     answers must cost no more);
//   - 1desc: one app descriptor per request, as the reference is fed;
//     route: what a route with a full policy sends (api, user, app, ip,
//     request descriptors).
//
// Each iteration is one round in which every backend runs for 400ms in
// turn, so that noise from other work on the machine hits them alike;
// run e.g. -benchtime=8x. It reports each backend's throughput, p99 and
// CPU time per call (its server, and Redis), and the ratios.
func BenchmarkRLS(b *testing.B) {
	const slice = 400 * time.Millisecond
	redisAddr := os.Getenv("APIGW_BENCH_REDIS")
	if redisAddr == "" {
		redisAddr = redistest.Start(b).Addr
	}
	redis := loadtest.External("redis", redisAddr)
	refAddr := os.Getenv("APIGW_BENCH_REFERENCE")
	procs := map[string]*loadtest.Proc{
		"noop":      loadtest.StartChild(b, roleNoop),
		"memory-ok": loadtest.StartChild(b, roleMemory, envLimits+"=ok"),
		"memory":    loadtest.StartChild(b, roleMemory, envLimits+"=over"),
		"redis-ok":  loadtest.StartChild(b, roleRedis, envLimits+"=ok", envRedis+"="+redisAddr, envPrefix+"=apigw:bench-ok:"),
		"redis":     loadtest.StartChild(b, roleRedis, envLimits+"=over", envRedis+"="+redisAddr, envPrefix+"=apigw:bench-over:"),
	}
	clients := map[string]*grpc.ClientConn{}
	for name, p := range procs {
		clients[name] = dial(b, p.Addr)
	}
	var ref *loadtest.Proc
	if refAddr != "" {
		ref = loadtest.External("reference", refAddr)
		clients["reference"] = dial(b, refAddr)
	}
	for _, limits := range []string{"ok", "over"} {
		for _, shape := range []string{"1desc", "route"} {
			reqs := benchRequests(shape == "1desc", appsOf(limits))
			for _, n := range []int{1, 16, 64} {
				b.Run(fmt.Sprintf("%s/%s/inflight=%d", limits, shape, n), func(b *testing.B) {
					var bes []loadtest.Backend
					add := func(name, proc string, reqs []*rlsv3.RateLimitRequest, extra ...*loadtest.Proc) {
						p := procs[proc]
						if proc == "reference" {
							p = ref
						}
						bes = append(bes, loadtest.Backend{Name: name, Procs: append([]*loadtest.Proc{{Name: "server", PID: p.PID}}, extra...),
							Call: rlsCall(clients[proc], reqs)})
					}
					if limits == "ok" {
						add("noop", "noop", reqs)
						add("memory", "memory-ok", reqs)
						add("redis", "redis-ok", reqs, redis)
					} else {
						add("memory-ok", "memory-ok", reqs)
						add("memory", "memory", reqs)
						add("redis", "redis", reqs, redis)
					}
					if ref != nil && shape == "1desc" {
						add("reference", "reference", referenceRequests(limits == "over", appsOf(limits)), redis)
					}
					b.ResetTimer()
					stats, err := loadtest.Interleave(bes, n, b.N, slice)
					b.StopTimer()
					if err != nil {
						b.Fatal(err)
					}
					s := map[string]*loadtest.Sample{}
					for i, be := range bes {
						st := &stats[i]
						s[be.Name] = st
						b.ReportMetric(st.QPS(), be.Name+"-req/s")
						b.ReportMetric(st.Pct(99), be.Name+"-p99-µs")
						b.ReportMetric(st.CPUPerCall("server"), be.Name+"-cpu-µs/call")
						b.ReportMetric(st.CPUPerCall("client"), be.Name+"-client-cpu-µs/call")
						if limits == "over" {
							b.ReportMetric(100*st.MarkedShare(), be.Name+"-over-%")
						}
					}
					if limits == "ok" {
						b.ReportMetric(100*s["memory"].QPS()/s["noop"].QPS(), "memory/floor-%")
					} else {
						over := s["memory"].QPS() / s["memory-ok"].QPS()
						b.ReportMetric(over, "memory-over/ok-x")
						b.ReportMetric(s["memory"].CPUPerCall("server")/s["memory-ok"].CPUPerCall("server"), "memory-over/ok-cpu-x")
						loadtest.AtLeast(b, "memory counter, over-limit answers / OK answers, throughput", over, 1)
					}
					if r := s["reference"]; r != nil {
						x, p99 := s["redis"].QPS()/r.QPS(), s["redis"].Pct(99)/r.Pct(99)
						b.ReportMetric(x, "redis/reference-x")
						b.ReportMetric(p99, "redis/reference-p99-x")
						b.ReportMetric(s["redis"].CPUPerCall("redis"), "redis-redis-cpu-µs/call")
						b.ReportMetric(r.CPUPerCall("redis"), "reference-redis-cpu-µs/call")
						if limits == "ok" {
							loadtest.AtLeast(b, "Redis counter / envoyproxy/ratelimit, throughput", x, 2)
						} else {
							loadtest.AtLeast(b, "Redis counter with the over-limit cache / envoyproxy/ratelimit with its local cache, throughput", x, 1.5)
						}
						loadtest.AtMost(b, "Redis counter / envoyproxy/ratelimit, p99", p99, 1)
					}
					b.ReportMetric(0, "ns/op")
				})
			}
		}
	}
}

// rlsCall returns a loadtest call sending reqs in turn; over-limit answers
// are marked. It reads only the answers' overall_code (a lean client,
// see loadtest.Invoke).
func rlsCall(conn *grpc.ClientConn, reqs []*rlsv3.RateLimitRequest) func(int) (bool, error) {
	ctx := context.Background()
	return func(i int) (bool, error) {
		r, err := loadtest.Invoke(ctx, conn, rlsv3.RateLimitService_ShouldRateLimit_FullMethodName, reqs[i%len(reqs)])
		if err != nil {
			return false, err
		}
		code, err := loadtest.Varint(r.B, 1)
		switch {
		case err != nil:
			return false, err
		case code == uint64(rlsv3.RateLimitResponse_OK):
			return false, nil
		case code == uint64(rlsv3.RateLimitResponse_OVER_LIMIT):
			return true, nil
		}
		return false, fmt.Errorf("overall_code %d", code)
	}
}

// appsOf is the number of apps calling: over their limits, few enough
// that nearly every call is refused.
func appsOf(limits string) int {
	if limits == "over" {
		return 100
	}
	return 1000
}

// referenceRequests are the reference's one-descriptor requests: domain
// "bench" (limit never reached) or "bench_over" (one call per app per
// second), key "app", the same apps in the same order.
func referenceRequests(over bool, apps int) []*rlsv3.RateLimitRequest {
	domain := "bench"
	if over {
		domain = "bench_over"
	}
	reqs := make([]*rlsv3.RateLimitRequest, 1000)
	for i := range reqs {
		reqs[i] = &rlsv3.RateLimitRequest{Domain: domain, Descriptors: []*ratelimitv3.RateLimitDescriptor{{
			Entries: []*ratelimitv3.RateLimitDescriptor_Entry{{Key: "app", Value: "app-" + strconv.Itoa(i*7919%apps)}},
		}}}
	}
	return reqs
}

func dial(b *testing.B, addr string) *grpc.ClientConn {
	conn, err := grpc.NewClient(addr, loadtest.DialOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	return conn
}

// BenchmarkShouldRateLimit measures the service's own work per call,
// without gRPC, on the memory counter: ok with limits never reached,
// over with nearly every call over the app limit.
func BenchmarkShouldRateLimit(b *testing.B) {
	for _, limits := range []string{"ok", "over"} {
		for _, shape := range []string{"1desc", "route"} {
			b.Run(limits+"/"+shape, func(b *testing.B) {
				feed := live.NewFeed()
				feed.Publish(benchSnapshot(limits == "over"))
				svc, err := ratelimit.New(feed, counter.NewMemory(), nil)
				if err != nil {
					b.Fatal(err)
				}
				reqs := benchRequests(shape == "1desc", appsOf(limits))
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
}
