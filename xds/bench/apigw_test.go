package bench

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/apigw/apigw/internal/apigwproc"
	"github.com/apigw/apigw/model/store"
)

// apigwProc is an apigw binary running with its embedded etcd, as a
// separate process so that its memory is measured alone.
type apigwProc struct {
	*apigwproc.Proc
	etcd apigwproc.Etcd
	key  string // --secret-key, hex
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// apigwBinary builds cmd/apigw once per run, unless APIGW_BENCH_BINARY
// names a binary to measure instead (another version, for a baseline).
func apigwBinary(b *testing.B) string {
	b.Helper()
	if bin := os.Getenv("APIGW_BENCH_BINARY"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "apigw-bench-")
		if err != nil {
			buildErr = err
			return
		}
		binPath, buildErr = apigwproc.Build(dir)
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

// readyWithin is how long apigw may take to answer /readyz, at start and
// after a restart on a large store.
const readyWithin = 60 * time.Second

// startAPIGW runs apigw (all components) on free ports.
func startAPIGW(b *testing.B, extra ...string) *apigwProc {
	b.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	p := &apigwProc{Proc: &apigwproc.Proc{Bin: apigwBinary(b), Addrs: apigwproc.FreeAddrs(b)}, etcd: apigwproc.NewEtcd(b), key: hex.EncodeToString(key)}
	args := append(p.etcd.Flags(), p.Addrs.Flags()...)
	p.Start(b, append(append(args, "--secret-key", p.key, "--log-level", "warn"), extra...)...)
	p.WaitReady(b, readyWithin)
	return p
}

// restart stops apigw and starts it again on the same data.
func (p *apigwProc) restart(b *testing.B) {
	b.Helper()
	p.Restart(b, readyWithin)
}

// rss returns the process's resident set and its peak, in bytes.
func (p *apigwProc) rss(b *testing.B) (cur, peak int64) {
	b.Helper()
	st := p.status(b)
	return st["VmRSS:"], st["VmHWM:"]
}

// cpu returns the CPU time the process has used (user + system).
func (p *apigwProc) cpu(b *testing.B) time.Duration {
	b.Helper()
	return procCPU(b, p.Pid())
}

// procCPU reads a process's CPU time from /proc/<pid>/stat.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may contain spaces).
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// status returns the sizes of /proc/<pid>/status, in bytes.
func (p *apigwProc) status(b *testing.B) map[string]int64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[2] == "kB" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			out[fields[0]] = kb << 10
		}
	}
	return out
}

// store returns a store on apigw's etcd, sealing with apigw's key.
func (p *apigwProc) store(b *testing.B) *store.Store {
	b.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{p.etcd.Endpoint()}, MaxCallSendMsgSize: 64 << 20, DialTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cli.Close() })
	key, _ := hex.DecodeString(p.key)
	s, err := store.NewSealer(key)
	if err != nil {
		b.Fatal(err)
	}
	return store.New(cli, store.NewCodec(s), quiet(), nil)
}

// metrics scrapes apigw's /metrics: every sample by its full name.
func (p *apigwProc) metrics(b *testing.B) promSamples {
	b.Helper()
	return p.Metrics(b)
}

// waitRevision waits until apigw serves etcd revision rev.
func (p *apigwProc) waitRevision(b *testing.B, rev int64, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.metrics(b)["apigw_xds_revision"] >= float64(rev) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("apigw did not serve revision %d within %v:\n%s", rev, timeout, p.Out.String())
}

type promSamples map[string]float64

// histogram is the difference of a histogram between two scrapes.
type histogram struct {
	bounds []float64
	counts []float64 // cumulative
	count  float64
}

func (s promSamples) histogram(name string) histogram {
	var h histogram
	type bucket struct{ le, n float64 }
	var bs []bucket
	prefix := name + `_bucket{le="`
	for k, v := range s {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		le := strings.TrimSuffix(strings.TrimPrefix(k, prefix), `"}`)
		f, err := strconv.ParseFloat(le, 64)
		if err != nil {
			continue
		}
		bs = append(bs, bucket{f, v})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	for _, x := range bs {
		h.bounds = append(h.bounds, x.le)
		h.counts = append(h.counts, x.n)
	}
	h.count = s[name+"_count"]
	return h
}

func (h histogram) minus(o histogram) histogram {
	out := histogram{bounds: h.bounds, counts: make([]float64, len(h.counts)), count: h.count - o.count}
	for i := range h.counts {
		out.counts[i] = h.counts[i]
		if i < len(o.counts) {
			out.counts[i] -= o.counts[i]
		}
	}
	return out
}

// quantile estimates a quantile the way Prometheus' histogram_quantile
// does (linear within the bucket).
func (h histogram) quantile(q float64) time.Duration {
	if h.count == 0 || len(h.bounds) == 0 {
		return 0
	}
	rank := q * h.count
	prevBound, prevCount := 0.0, 0.0
	for i, c := range h.counts {
		if c >= rank {
			bound := h.bounds[i]
			if math.IsInf(bound, 1) {
				bound = prevBound
			}
			frac := 0.0
			if c > prevCount {
				frac = (rank - prevCount) / (c - prevCount)
			}
			return time.Duration((prevBound + (bound-prevBound)*frac) * float64(time.Second))
		}
		prevBound, prevCount = h.bounds[i], c
	}
	return time.Duration(prevBound * float64(time.Second))
}
