package bench

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

// Targets of the translation benchmark.
const (
	targetTranslate   = 200 * time.Millisecond
	targetTranslateMB = 300
)

func groupID(g int) string { return fmt.Sprintf("g%03d", g) }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// BenchmarkTranslate10k: full translation of 10 000 APIs in 100 groups.
func BenchmarkTranslate10k(b *testing.B) {
	in, err := xdstest.Instance(model.DefaultInstance, xdstest.Objects(100, 100))
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	b.ReportAllocs()
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res, err := translate.Build(in, translate.Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(res)
		peak = max(peak, after.HeapAlloc-before.HeapAlloc)
	}
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(perOp.Microseconds())/1000, "ms/translate")
	b.ReportMetric(float64(perOp)/float64(targetTranslate), "time/target")
	b.ReportMetric(float64(peak)/(1<<20), "heap-MB")
	b.ReportMetric(float64(peak)/(1<<20)/targetTranslateMB, "heap/target")
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// envInt reads a benchmark setting from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// fullClients is how many clients of each run decode and validate every
// resource (APIGW_BENCH_FULL_CLIENTS, default 1; 0 for none); the others
// decode only the names they follow (decode_test.go).
func fullClients() int {
	if v, err := strconv.Atoi(os.Getenv("APIGW_BENCH_FULL_CLIENTS")); err == nil && v >= 0 {
		return v
	}
	return 1
}
