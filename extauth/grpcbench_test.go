package extauth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"

	"github.com/apigw/apigw/internal/loadtest"
)

// noopServer allows everything: the baseline for the gRPC overhead.
type noopServer struct {
	authv3.UnimplementedAuthorizationServer
}

func (noopServer) Check(context.Context, *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	return &authv3.CheckResponse{Status: &rpcstatus.Status{}}, nil
}

// BenchmarkGRPC drives, over one loopback gRPC connection shaped as
// Envoy's, ext_authz servers that each run in a process of their own:
// a no-op server (the baseline: answers OK without looking), apigw
// checking an APP signature, and apigw holding one million live
// rate-limit counters in memory besides ("counters": rate limiting must
// not slow ext_authz in the same process), with apigw's data-plane gRPC
// options, and the no-op server and apigw again with gRPC's defaults
// ("-defaults", what the options change), at 1, 16 and 64 checks in
// flight. They run in turns of 400ms, so that noise from other work on
// the machine hits them alike; run with -benchtime=8x. It reports
// throughput, p50, p99, the servers' CPU time per check and the ratios
// to the no-op server.
func BenchmarkGRPC(b *testing.B) {
	const slice = 400 * time.Millisecond
	req := signed("api-sig", "GET", "/items/42?b=2&a=1", map[string]string{"Content-Type": "application/json"}, "", key1, secret1, testNow).checkRequest()
	defaults := loadtest.DefaultsEnv + "=1"
	procs := []*loadtest.Proc{
		loadtest.StartChild(b, roleNoop),
		loadtest.StartChild(b, roleExtauth),
		loadtest.StartChild(b, roleExtauth, envCounters+"=1000000"),
		loadtest.StartChild(b, roleNoop, defaults),
		loadtest.StartChild(b, roleExtauth, defaults),
	}
	names := []string{"noop", "apigw", "counters", "noop-defaults", "apigw-defaults"}
	var bes []loadtest.Backend
	for i, p := range procs {
		conn, err := grpc.NewClient(p.Addr, loadtest.DialOptions()...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = conn.Close() })
		bes = append(bes, loadtest.Backend{Name: names[i], Procs: []*loadtest.Proc{{Name: "server", PID: p.PID}},
			Call: func(int) (bool, error) { return false, checkAllowed(conn, req) }})
	}
	for _, inflight := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			b.ResetTimer()
			stats, err := loadtest.Interleave(bes, inflight, b.N, slice)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			for i, be := range bes {
				st := &stats[i]
				b.ReportMetric(st.QPS(), be.Name+"-req/s")
				b.ReportMetric(st.Pct(50), be.Name+"-p50-µs")
				b.ReportMetric(st.Pct(99), be.Name+"-p99-µs")
				b.ReportMetric(st.CPUPerCall("server"), be.Name+"-cpu-µs/call")
			}
			x, cx, cp99 := stats[1].QPS()/stats[0].QPS(), stats[2].QPS()/stats[1].QPS(), stats[2].Pct(99)/stats[1].Pct(99)
			b.ReportMetric(x, "apigw/noop-x")
			b.ReportMetric(stats[4].QPS()/stats[3].QPS(), "apigw/noop-defaults-x")
			b.ReportMetric(cx, "counters/apigw-x")
			b.ReportMetric(cp99, "counters/apigw-p99-x")
			loadtest.AtLeast(b, "apigw APP check / no-op server, throughput", x, 0.9)
			// No effect of a million counters: equal within the noise of
			// a shared machine.
			loadtest.AtLeast(b, "with 1M rate-limit counters / without, throughput", cx, 0.9)
			loadtest.AtMost(b, "with 1M rate-limit counters / without, p99", cp99, 1.25)
			b.ReportMetric(0, "ns/op")
		})
	}
}

// checkAllowed makes a check and fails unless it is allowed (status code
// 0), reading nothing else of the answer (a lean client, see
// loadtest.Invoke).
func checkAllowed(conn *grpc.ClientConn, req *authv3.CheckRequest) error {
	r, err := loadtest.Invoke(context.Background(), conn, authv3.Authorization_Check_FullMethodName, req)
	if err != nil {
		return err
	}
	st, err := loadtest.Message(r.B, 1)
	if err != nil {
		return err
	}
	if code, err := loadtest.Varint(st, 1); err != nil || code != 0 {
		return fmt.Errorf("check denied (status %d): %v", code, err)
	}
	return nil
}
