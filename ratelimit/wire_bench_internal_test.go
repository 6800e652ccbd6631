package ratelimit

import (
	"context"
	"log/slog"
	"strconv"
	"testing"

	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/recovery"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit/counter"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
)

// BenchmarkWire measures the service's work per call as served over gRPC
// (decoding the request, deciding, encoding the answer), without the
// transport, on the memory counter: limits never reached (ok) and one
// call per app per second (over: nearly every answer refused).
func BenchmarkWire(b *testing.B) {
	for _, limits := range []string{"ok", "over"} {
		b.Run(limits, func(b *testing.B) {
			app := int32(model.MaxAPILimits)
			if limits == "over" {
				app = 1
			}
			feed := live.NewFeed()
			feed.Publish(fx.Edit(1, fx.NewInstance(), &apigwv1.Throttle{Id: fx.Exclusive, Name: "bench", ApiCallLimits: model.MaxAPILimits,
				AppCallLimits: app, TimeInterval: 1, TimeUnit: model.UnitSecond, Type: model.ThrottleExclusive}))
			s, err := New(feed, counter.NewMemory(), nil)
			if err != nil {
				b.Fatal(err)
			}
			var reqs [][]byte
			for i := range 100 {
				d := dataplane.RateLimitDescriptor{Instance: fx.Instance, API: fx.APIExclusive, Env: fx.Env, Dim: dataplane.RateLimitDimApp, Subject: "app-" + strconv.Itoa(i)}
				rd := &ratelimitv3.RateLimitDescriptor{}
				for _, e := range d.Entries() {
					rd.Entries = append(rd.Entries, &ratelimitv3.RateLimitDescriptor_Entry{Key: e.Key, Value: e.Value})
				}
				raw, _ := proto.Marshal(&rlsv3.RateLimitRequest{Domain: dataplane.RateLimitDomain, Descriptors: []*ratelimitv3.RateLimitDescriptor{rd}})
				reqs = append(reqs, raw)
			}
			in := newWireRequest()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := proto.Unmarshal(reqs[i%len(reqs)], in); err != nil {
					b.Fatal(err)
				}
				out, _ := s.shouldRateLimitWire(ctx, in)
				if _, err := proto.Marshal(out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWireInterceptors measures the gRPC handler of the service
// (decoding, deciding, encoding, without the transport) with limits never
// reached on the memory counter: without interceptors, behind apigw's
// panic-recovery interceptor (each call's request then left to the
// interceptors), and behind it with WithRequestReuse.
func BenchmarkWireInterceptors(b *testing.B) {
	rec := recovery.New(slog.New(slog.DiscardHandler), nil)
	for _, bc := range []struct {
		name  string
		icpt  grpc.UnaryServerInterceptor
		reuse bool
	}{{"none", nil, false}, {"recovery", rec.Unary("ratelimit"), false}, {"recovery+reuse", rec.Unary("ratelimit"), true}} {
		b.Run(bc.name, func(b *testing.B) {
			feed := live.NewFeed()
			feed.Publish(fx.Edit(1, fx.NewInstance(), &apigwv1.Throttle{Id: fx.Exclusive, Name: "bench", ApiCallLimits: model.MaxAPILimits,
				AppCallLimits: model.MaxAPILimits, TimeInterval: 1, TimeUnit: model.UnitSecond, Type: model.ThrottleExclusive}))
			var opts []Option
			if bc.reuse {
				opts = append(opts, WithRequestReuse())
			}
			s, err := New(feed, counter.NewMemory(), nil, opts...)
			if err != nil {
				b.Fatal(err)
			}
			var reqs [][]byte
			for i := range 100 {
				req := &rlsv3.RateLimitRequest{Domain: dataplane.RateLimitDomain}
				for _, dim := range []string{dataplane.RateLimitDimAPI, dataplane.RateLimitDimApp, dataplane.RateLimitDimIP, dataplane.RateLimitDimAppQuota} {
					d := dataplane.RateLimitDescriptor{Instance: fx.Instance, API: fx.APIExclusive, Env: fx.Env, Dim: dim, Subject: "app-" + strconv.Itoa(i)}
					rd := &ratelimitv3.RateLimitDescriptor{}
					for _, e := range d.Entries() {
						rd.Entries = append(rd.Entries, &ratelimitv3.RateLimitDescriptor_Entry{Key: e.Key, Value: e.Value})
					}
					req.Descriptors = append(req.Descriptors, rd)
				}
				raw, _ := proto.Marshal(req)
				reqs = append(reqs, raw)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				raw := reqs[i%len(reqs)]
				out, err := shouldRateLimitHandler(s, ctx, func(m any) error { return proto.Unmarshal(raw, m.(proto.Message)) }, bc.icpt)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := proto.Marshal(out.(proto.Message)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
