package table

import (
	"strings"
	"testing"
)

// The three shapes of output the suites print are read into rows with
// the right status; other lines are ignored.
func TestParseReadsEveryShape(t *testing.T) {
	out := `goos: linux
BenchmarkApplyPublishOneAPI-2   	       5	 12 ms-1k	 29.0 ms-10k	 0.967 10k/target
BenchmarkPublishAll10k-2        	       1	 70.1 s-all	 1.17 all/target
BenchmarkGRPC/inflight=1-2      	       8	  0 ns/op	 0.71 apigw/noop-x
--- BENCH: BenchmarkGRPC/inflight=1-2
    grpcbench_test.go:79: apigw APP check / no-op server, throughput: 0.71 (target ≥ 0.9): NOT met
    grpcbench_test.go:83: with 1M rate-limit counters / without, p99: 1.01 (target ≤ 1.25): met
    footprint_test.go:52: memory counter, heap per live counter: 118 B (target ≤ 150 B): met

Work                                                    Measured              Target             Measured/target
RSS after restart                                       238 MiB               ≤ 300 MiB          0.79
Change → every client, 100 clients, SotW                p50 42.3 ms, p99 79.4 ms  p99 ≤ 50 ms        1.59
Bytes per client for a one-API change                   137 KB                group granularity  —

load average at end: 0.67
`
	rows, err := Parse("s", strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ work, status string }{
		{"BenchmarkApplyPublishOneAPI 10k", "met"},
		{"BenchmarkPublishAll10k all", "NOT met"},
		{"BenchmarkGRPC/inflight=1: apigw APP check / no-op server, throughput", "NOT met"},
		{"BenchmarkGRPC/inflight=1: with 1M rate-limit counters / without, p99", "met"},
		{"BenchmarkGRPC/inflight=1: memory counter, heap per live counter", "met"},
		{"RSS after restart", "met"},
		{"Change → every client, 100 clients, SotW", "NOT met"},
		{"Bytes per client for a one-API change", "info"},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		if rows[i].Work != w.work || rows[i].Status != w.status {
			t.Errorf("row %d: %q %q, want %q %q", i, rows[i].Work, rows[i].Status, w.work, w.status)
		}
	}
	if rows[2].Measured != "0.71" || rows[2].Target != "≥ 0.9" {
		t.Errorf("target line read as %+v", rows[2])
	}
}

func TestSelectRefusesUnknownSuites(t *testing.T) {
	if _, err := Select("fleet,nope", 10); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("err = %v", err)
	}
	s, err := Select("rls, fleet", 10)
	if err != nil || len(s) != 2 || s[0].Name != "rls" || s[1].Env[0] != "APIGW_BENCH_FLEET=10" {
		t.Errorf("Select = %+v, %v", s, err)
	}
}
