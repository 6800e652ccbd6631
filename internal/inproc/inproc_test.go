package inproc_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/internal/inproc"
)

// The generated client reaches the real implementation, copies of the
// messages cross, and the implementation's errors come back as statuses.
func TestConnCallsTheImplementation(t *testing.T) {
	h := health.NewServer()
	h.SetServingStatus("svc", healthpb.HealthCheckResponse_NOT_SERVING)
	c := healthpb.NewHealthClient(inproc.New(&healthpb.Health_ServiceDesc, h))
	req := &healthpb.HealthCheckRequest{Service: "svc"}
	resp, err := c.Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("status %v, want NOT_SERVING", resp.GetStatus())
	}
	_, err = c.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "unknown"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("unknown service: %v, want NotFound", err)
	}
	if _, err := c.List(context.Background(), &healthpb.HealthListRequest{}); err != nil {
		t.Fatalf("List: %v", err)
	}
	if _, err := c.Watch(context.Background(), req); status.Code(err) != codes.Unimplemented {
		t.Fatalf("stream: %v, want Unimplemented", err)
	}
}
