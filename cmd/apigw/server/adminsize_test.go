package server

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/internal/recovery"
	"github.com/apigw/apigw/internal/testutil"
)

// The admin server refuses a request above --admin-max-request-bytes with
// RESOURCE_EXHAUSTED naming both sizes, before reading it into a handler.
func TestAdminRequestSizeIsBounded(t *testing.T) {
	cfg, err := ParseConfig([]string{"--components", "admin", "--admin-max-request-bytes", "100000"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	svcs, err := services(&deps{cfg: cfg, log: discardLogger(), reg: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	gs, _ := svcs[0].newServer(recovery.New(discardLogger(), nil))
	conn := testutil.ServeAndDialGRPC(t, gs)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hc := healthpb.NewHealthClient(conn)
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: strings.Repeat("x", 90000)}); status.Code(err) == codes.ResourceExhausted {
		t.Fatalf("a request under the bound was refused: %v", err)
	}
	_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{Service: strings.Repeat("x", 110000)})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "100000") {
		t.Fatalf("a request over the bound: %v, want RESOURCE_EXHAUSTED naming the bound", err)
	}
}

func TestAdminRequestBoundIsChecked(t *testing.T) {
	_, err := ParseConfig([]string{"--admin-max-request-bytes", "10"}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--admin-max-request-bytes") {
		t.Fatalf("got %v", err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
