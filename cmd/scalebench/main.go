// Command scalebench runs the benchmarks behind apigw's scale targets (a
// fleet of ADS clients on a 10 000-API instance, admin writes, the
// rate-limit service against the reference, ext_authz against a no-op
// server) one after the other on this machine, keeps their whole output in
// a log, and ends with one table: every row with its measured figure, its
// target and whether it is met.
//
//	go run ./cmd/scalebench [-fleet 1000] [-only fleet,admin,rls,extauth] [-log scalebench.log]
//
// The rate-limit rows against envoyproxy/ratelimit need the reference
// running (APIGW_BENCH_REFERENCE) and Redis (APIGW_BENCH_REDIS); see
// ratelimit/README.md. Without them those rows are reported as skipped.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/apigw/apigw/cmd/scalebench/table"
)

func main() {
	fleet := flag.Int("fleet", 1000, "ADS clients of the fleet row")
	only := flag.String("only", "", "comma list of suites to run ("+strings.Join(table.SuiteNames(), ", ")+"); all when empty")
	logPath := flag.String("log", "scalebench.log", "file receiving the benchmarks' whole output")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *fleet, *only, *logPath, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scalebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, fleet int, only, logPath string, out io.Writer) error {
	suites, err := table.Select(only, fleet)
	if err != nil {
		return err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	var rows []table.Row
	for _, s := range suites {
		fmt.Fprintf(out, "== %s: %s\n", s.Name, strings.Join(s.Command(), " "))
		got, err := table.Run(ctx, s, io.MultiWriter(log, prefixed(out)))
		if err != nil {
			rows = append(rows, table.Row{Suite: s.Name, Work: "(suite failed: " + err.Error() + ")", Status: "failed"})
			continue
		}
		rows = append(rows, got...)
	}
	fmt.Fprintln(out)
	table.Print(out, rows)
	fmt.Fprintf(out, "\nwhole output: %s\n", logPath)
	return nil
}

// prefixed shows the benchmarks' progress lines that matter while they
// run: their results and target lines.
func prefixed(w io.Writer) io.Writer { return &progress{w: w} }

type progress struct {
	w    io.Writer
	line []byte
}

func (p *progress) Write(b []byte) (int, error) {
	for _, c := range b {
		if c != '\n' {
			p.line = append(p.line, c)
			continue
		}
		l := string(p.line)
		if strings.Contains(l, "(target ") || strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "FAIL") {
			fmt.Fprintln(p.w, "  "+strings.TrimSpace(l))
		}
		p.line = p.line[:0]
	}
	return len(b), nil
}
