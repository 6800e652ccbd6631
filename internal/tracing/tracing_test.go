package tracing_test

import (
	"context"
	"encoding/hex"
	"net"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/apigw/apigw/internal/tracing"
)

// collector is an OTLP/gRPC trace collector keeping what it receives.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []struct{ trace, parent, name string }
}

func (c *collector) Export(_ context.Context, r *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range r.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, struct{ trace, parent, name string }{hex.EncodeToString(s.GetTraceId()), hex.EncodeToString(s.GetParentSpanId()), s.GetName()})
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func serve(t *testing.T, opts []grpc.ServerOption, register func(*grpc.Server)) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(opts...)
	register(s)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// A call carrying a W3C traceparent (as Envoy sends to ext_authz) gets a
// server span in that trace, child of the caller's span, exported to the
// collector; a call without one starts no trace at 0 %.
func TestServerSpansJoinTheCallersTrace(t *testing.T) {
	col := &collector{}
	colAddr := serve(t, nil, func(s *grpc.Server) { coltracepb.RegisterTraceServiceServer(s, col) })
	ctx := context.Background()
	tr, err := tracing.New(ctx, tracing.Options{Collector: colAddr, SamplingPercentage: 0})
	if err != nil {
		t.Fatal(err)
	}
	var traced *grpc.Server
	addr := serve(t, []grpc.ServerOption{tr.ServerOption()}, func(s *grpc.Server) { traced = s; healthpb.RegisterHealthServer(s, health.NewServer()) })
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const traceID, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	cctx := metadata.AppendToOutgoingContext(ctx, "traceparent", "00-"+traceID+"-"+parent+"-01")
	if _, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	// The server span ends after the response reached the client; a
	// graceful stop returns once every call, its span included, is done.
	traced.GracefulStop()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := tr.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.spans) != 1 {
		t.Fatalf("spans %v, want the one of the traced call", col.spans)
	}
	if s := col.spans[0]; s.trace != traceID || s.parent != parent || s.name != "grpc.health.v1.Health/Check" {
		t.Errorf("span %+v, want trace %s parent %s", s, traceID, parent)
	}
}
