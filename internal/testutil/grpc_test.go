package testutil

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// A server served by ServeGRPC answers over the connection DialGRPC makes.
func TestServeAndDialGRPC(t *testing.T) {
	s := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("x", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(s, hs)
	conn := ServeAndDialGRPC(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "x"})
	if err != nil || resp.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("Check: %v %v", resp, err)
	}
}
