package recovery_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/internal/recovery"
	"github.com/apigw/apigw/internal/recovery/recoverytest"
	"github.com/apigw/apigw/internal/testutil"
)

func TestPanicsBecomeInternalWithStackAndCounter(t *testing.T) {
	var logs testutil.Buffer
	reg := prometheus.NewRegistry()
	rec := recovery.New(slog.New(slog.NewJSONHandler(&logs, nil)), reg)

	gs := grpc.NewServer(rec.ServerOptions("admin")...)
	recoverytest.Register(gs)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	conn := testutil.ServeAndDialGRPC(t, gs)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for range 3 {
		if err := recoverytest.CallUnary(ctx, conn); status.Code(err) != codes.Internal {
			t.Fatalf("unary panic: got %v, want Internal", err)
		}
	}
	if err := recoverytest.CallStream(ctx, conn); status.Code(err) != codes.Internal {
		t.Fatalf("stream panic: got %v, want Internal", err)
	}
	// The server still serves.
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("server unusable after recovered panics: %v", err)
	}

	if n := (counter(t, reg, "admin", recoverytest.UnaryMethod)); n != 3 {
		t.Errorf("unary panics counted %v, want 3", n)
	}
	if n := (counter(t, reg, "admin", recoverytest.StreamMethod)); n != 1 {
		t.Errorf("stream panics counted %v, want 1", n)
	}
	out := logs.String()
	for _, want := range []string{"assignment to entry in nil map", "stream handler failed", "recoverytest.Register", `"server":"admin"`, `"method":"` + recoverytest.StreamMethod} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// counter reads one series of apigw_grpc_panics_total from the registry.
func counter(t *testing.T, reg *prometheus.Registry, server, method string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "apigw_grpc_panics_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["server"] == server && labels["method"] == method {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no apigw_grpc_panics_total{server=%q,method=%q}", server, method)
	return 0
}
