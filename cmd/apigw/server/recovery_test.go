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
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/internal/recovery"
	"github.com/apigw/apigw/internal/recovery/recoverytest"
	"github.com/apigw/apigw/internal/testutil"
)

// Every gRPC server apigw runs (admin with its token guard, xDS, ext_authz,
// RLS) answers a panicking handler with INTERNAL and keeps serving.
func TestEveryGRPCServerRecoversFromPanics(t *testing.T) {
	cfg, err := ParseConfig([]string{"--admin-token", "t0ken-for-the-test"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	reg := prometheus.NewRegistry()
	svcs, err := services(&deps{cfg: cfg, log: log, reg: reg})
	if err != nil {
		t.Fatal(err)
	}
	// The console and the function component serve over HTTP (a gRPC server with the same recovery
	// behind it: TestConsoleServesTheAdminAPI).
	if len(svcs) != len(AllComponents())-2 {
		t.Fatalf("%d services for %d gRPC components", len(svcs), len(AllComponents())-2)
	}
	rec := recovery.New(log, reg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer t0ken-for-the-test")
	for _, s := range svcs {
		gs, _ := s.newServer(rec)
		recoverytest.Register(gs)
		conn := testutil.ServeAndDialGRPC(t, gs)
		if err := recoverytest.CallUnary(ctx, conn); status.Code(err) != codes.Internal {
			t.Errorf("%s: unary panic gave %v, want Internal", s.name, err)
		}
		if err := recoverytest.CallStream(ctx, conn); status.Code(err) != codes.Internal {
			t.Errorf("%s: stream panic gave %v, want Internal", s.name, err)
		}
		if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Errorf("%s: not serving after a recovered panic: %v", s.name, err)
		}
		if !strings.Contains(logs.String(), "server="+s.name) {
			t.Errorf("%s: no log line for the panic", s.name)
		}
	}
}
