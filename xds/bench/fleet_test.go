package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/xdstest"
)

// Targets of the fleet-scale table.
const (
	targetSync        = 10 * time.Second
	targetFleetRSS    = 2 << 30
	targetPropagation = 50 * time.Millisecond
	targetRSS         = 300 << 20
	// settle is how long the RSS rows wait once apigw serves the last
	// revision: apigw returns the memory of a burst of changes to the
	// system 5 s after the last one.
	settle = 10 * time.Second
)

// fleetConfig sizes the run (APIGW_BENCH_* variables).
type fleetConfig struct {
	groups, perGroup int // the instance: groups × perGroup APIs
	fleet            int // clients of the memory row
	clients          int // clients of the propagation rows
	changes          int // changes measured per propagation row
	phases           string
}

// phase reports whether a phase runs (APIGW_BENCH_PHASES: a comma list
// of rss, propagation, fleet; default all). The RSS rows always run: they
// set the instance up.
func (c fleetConfig) phase(name string) bool {
	return c.phases == "" || strings.Contains(","+c.phases+",", ","+name+",")
}

func fleetSettings() fleetConfig {
	return fleetConfig{
		groups: envInt("APIGW_BENCH_GROUPS", 100), perGroup: envInt("APIGW_BENCH_APIS_PER_GROUP", 100),
		fleet: envInt("APIGW_BENCH_FLEET", 1000), clients: envInt("APIGW_BENCH_CLIENTS", 100), changes: envInt("APIGW_BENCH_CHANGES", 40),
		phases: os.Getenv("APIGW_BENCH_PHASES"),
	}
}

// row is one line of the report.
type row struct{ work, measured, target, ratio string }

// BenchmarkFleet reproduces the xDS rows of the fleet-scale table against
// an apigw binary (its own process, embedded etcd) holding groups ×
// perGroup APIs (default 100 × 100), with ADS clients that subscribe,
// ACK and NACK like Envoy (xds/bench/envoy_test.go). Run it once:
//
//	APIGW_BENCH_FLEET=1000 go test ./xds/bench -run '^$' -bench Fleet -benchtime 1x -timeout 90m
//
// It prints each row with its target and the ratio measured/target, and
// the stage breakdown of propagation from apigw's /metrics histograms.
func BenchmarkFleet(b *testing.B) {
	if os.Getenv("APIGW_BENCH_FLEET") == "" {
		b.Skip("runs for minutes: set APIGW_BENCH_FLEET (the clients of the fleet row, e.g. 1000), or run make bench-xds")
	}
	cfg := fleetSettings()
	for b.Loop() {
		runFleet(b, cfg)
	}
}

func runFleet(b *testing.B, cfg fleetConfig) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fmt.Printf("\nload average at start: %s\n", loadAverage())
	defer func() { fmt.Printf("load average at end: %s\n", loadAverage()) }()
	var rows []row
	// ratio < 0: no target to compare with.
	add := func(work, measured, target string, ratio float64) {
		r := "—"
		if ratio >= 0 {
			r = fmt.Sprintf("%.3g", ratio)
		}
		rows = append(rows, row{work, measured, target, r})
	}

	p := startAPIGW(b)
	st := p.store(b)
	go func() { _ = st.Watch(ctx, live.NewFeed()) }() // Load from the watched view

	// A publishing session: the definitions, then one commit publishing
	// each group's APIs (what the admin API writes for them).
	start := time.Now()
	objs := xdstest.Objects(cfg.groups, cfg.perGroup)
	for i := 0; i < len(objs); i += 2000 {
		part := objs[i:min(i+2000, len(objs))]
		commit(b, st, func(*model.Instance) []proto.Message { return part })
	}
	var rev int64
	for g := range cfg.groups {
		rev = commit(b, st, func(in *model.Instance) []proto.Message {
			var puts []proto.Message
			for a := range cfg.perGroup {
				pub, err := xdstest.Publish(in, fmt.Sprintf("%s-a%04d", groupID(g), a), 1)
				if err != nil {
					b.Fatal(err)
				}
				puts = append(puts, pub...)
			}
			return puts
		})
	}
	p.waitRevision(b, rev, 10*time.Minute)
	session := time.Since(start)
	time.Sleep(settle)
	rss, _ := p.rss(b)
	add(fmt.Sprintf("RSS, %d APIs, after a publishing session (%d commits, %.0f s)", cfg.groups*cfg.perGroup, cfg.groups+len(objs)/2000+1, session.Seconds()),
		mib(rss)+p.heap(b), "≤ 300 MiB", float64(rss)/targetRSS)

	p.restart(b)
	p.waitRevision(b, rev, 5*time.Minute)
	time.Sleep(settle)
	rss, _ = p.rss(b)
	add("RSS after restart", mib(rss)+p.heap(b), "≤ 300 MiB", float64(rss)/targetRSS)
	if !cfg.phase("propagation") && !cfg.phase("fleet") {
		report(rows, nil)
		return
	}

	watch := watchTimes(ctx, b, st)
	var stages []string
	for _, mode := range []struct {
		name, version string
		delta         bool
		clients       int
		changes       int
	}{
		{"SotW, scoped routes (Envoy 1.40)", "1.40.0", false, cfg.clients, cfg.changes},
		{"delta, scoped routes (Envoy 1.40)", "1.40.0", true, cfg.clients, cfg.changes},
		{"SotW, single RouteConfiguration (Envoy 1.37)", "1.37.0", false, 10, 3},
	} {
		if !cfg.phase("propagation") {
			break
		}
		r := propagate(ctx, b, p, st, watch, mode.version, mode.delta, mode.clients, mode.changes, 1000*(len(stages)+1))
		if mode.clients == cfg.clients {
			add(fmt.Sprintf("Change → every client, %d clients, %s", mode.clients, mode.name),
				fmt.Sprintf("p50 %s, p99 %s", ms(r.p50), ms(r.p99)), "p99 ≤ 50 ms", float64(r.p99)/float64(targetPropagation))
		}
		add(fmt.Sprintf("Bytes per client for a one-API change, %s", mode.name), fmt.Sprintf("%.0f KB", r.bytesPerClient/1000), "group granularity", -1)
		stages = append(stages, fmt.Sprintf("%s: %s", mode.name, r.stages))
	}

	if !cfg.phase("fleet") {
		report(rows, stages)
		return
	}
	// The fleet: a fresh apigw process, then the clients all at once.
	p.restart(b)
	p.waitRevision(b, rev, 5*time.Minute)
	time.Sleep(settle)
	base, _ := p.rss(b)
	f := fleet(ctx, b, p, cfg.fleet)
	add(fmt.Sprintf("%d clients synced (all scoped routes, %d APIs)", cfg.fleet, cfg.groups*cfg.perGroup),
		fmt.Sprintf("%.1f s (CPU used: apigw %.1f s, the clients %.1f s)", f.sync.Seconds(), f.apigwCPU.Seconds(), f.clientsCPU.Seconds()), "≤ 10 s", f.sync.Seconds()/targetSync.Seconds())
	add(fmt.Sprintf("RSS with %d clients (peak while syncing; idle before: %s)", cfg.fleet, mib(base)), mib(f.peak), "≤ 2 GiB", float64(f.peak)/targetFleetRSS)
	add("Memory per connected client (peak − idle) / clients", fmt.Sprintf("%.0f KiB", float64(f.peak-base)/float64(cfg.fleet)/1024), "—", -1)
	add(fmt.Sprintf("One change → all %d clients", cfg.fleet), ms(f.change), "—", -1)

	report(rows, stages)
}

// report prints the rows and the stage breakdown.
func report(rows []row, stages []string) {
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\nWork\tMeasured\tTarget\tMeasured/target")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.work, r.measured, r.target, r.ratio)
	}
	w.Flush()
	fmt.Println("\nPropagation stages (p50 / p99; apigw /metrics histograms, the watch stage from a watcher of the same etcd):")
	for _, s := range stages {
		fmt.Println("  " + s)
	}
	fmt.Println()
}

// loadAverage is the machine's 1/5/15-minute load (figures taken on a
// loaded machine are slower).
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	return strings.Join(f[:min(3, len(f))], " ") + fmt.Sprintf(" (%d CPUs)", runtime.NumCPU())
}

// heap describes apigw's Go heap from its /metrics.
func (p *apigwProc) heap(b *testing.B) string {
	m := p.metrics(b)
	file := p.status(b)["RssFile:"]
	return fmt.Sprintf(" (Go heap: in use %s, idle %s, released %s; file-backed %s)", mib(int64(m["go_memstats_heap_inuse_bytes"])),
		mib(int64(m["go_memstats_heap_idle_bytes"])), mib(int64(m["go_memstats_heap_released_bytes"])), mib(file))
}

// commit writes one change to the default instance and returns its
// revision.
func commit(b *testing.B, st *store.Store, puts func(*model.Instance) []proto.Message) int64 {
	b.Helper()
	for {
		base, err := st.Load(context.Background(), model.DefaultInstance)
		if err != nil {
			b.Fatal(err)
		}
		rev, err := st.Commit(context.Background(), base, &store.Change{Puts: puts(base.Instance)})
		if err == model.ErrConflict {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		return rev
	}
}

// changedAPI is the API the changes edit (the middle group's 8th),
// with backend path revision r.
func changedAPI(r int) *apigwv1.Api {
	cfg := fleetSettings()
	return xdstest.API(groupID(cfg.groups/2), min(7, cfg.perGroup-1), r)
}

// watchTimes records when a watcher of apigw's etcd sees each revision.
type revTimes struct {
	mu sync.Mutex
	at map[int64]time.Time
}

func watchTimes(ctx context.Context, b *testing.B, st *store.Store) *revTimes {
	rt := &revTimes{at: map[int64]time.Time{}}
	wch := st.Client().Watch(ctx, store.Prefix, clientv3.WithPrefix())
	go func() {
		for resp := range wch {
			now := time.Now()
			rt.mu.Lock()
			rt.at[resp.Header.Revision] = now
			rt.mu.Unlock()
		}
	}()
	return rt
}

func (rt *revTimes) get(rev int64) (time.Time, bool) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		rt.mu.Lock()
		t, ok := rt.at[rev]
		rt.mu.Unlock()
		if ok {
			return t, true
		}
		time.Sleep(time.Millisecond)
	}
	return time.Time{}, false
}

// change is one change being delivered.
type change struct {
	marker    string
	remaining atomic.Int64
	last      atomic.Int64
	done      chan struct{}
}

type propagation struct {
	p50, p99       time.Duration
	bytesPerClient float64
	stages         string
}

var stageMetrics = []struct{ name, metric string }{
	{"view update", "apigw_store_view_update_seconds"},
	{"wait", "apigw_xds_sync_wait_seconds"},
	{"translation", "apigw_xds_translate_seconds"},
	{"cache", "apigw_xds_cache_update_seconds"},
	{"send", "apigw_xds_send_delay_seconds"},
	{"ACK", "apigw_xds_ack_delay_seconds"},
}

// propagate connects n clients of an Envoy version, then commits changes
// one API at a time and measures from each commit to the last client.
func propagate(ctx context.Context, b *testing.B, p *apigwProc, st *store.Store, watch *revTimes, version string, delta bool, n, changes, revBase int) propagation {
	b.Helper()
	var cur atomic.Pointer[change]
	cur.Store(&change{done: make(chan struct{})})
	marker := func() string { return cur.Load().marker }
	seen := make([]string, n) // per client: the last marker reported
	var envoys []*envoy
	idx := map[*envoy]int{}
	var mu sync.Mutex
	onMarker := func(e *envoy, at time.Time) {
		c := cur.Load()
		mu.Lock()
		i := idx[e]
		mu.Unlock()
		if seen[i] == c.marker {
			return
		}
		seen[i] = c.marker
		for {
			l := c.last.Load()
			if at.UnixNano() <= l || c.last.CompareAndSwap(l, at.UnixNano()) {
				break
			}
		}
		if c.remaining.Add(-1) == 0 {
			close(c.done)
		}
	}
	for i := range n {
		e, err := dialEnvoy(ctx, p.XDS, xdstest.Node(fmt.Sprintf("envoy-%s-%v-%04d", version, delta, i), model.DefaultInstance, version), delta, i < fullClients(), marker, onMarker)
		if err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		idx[e] = i
		mu.Unlock()
		envoys = append(envoys, e)
	}
	defer func() {
		for _, e := range envoys {
			e.close()
		}
	}()
	waitSynced(b, envoys, 5*time.Minute)
	m0 := p.metrics(b)
	var bytes0 int64
	for _, e := range envoys {
		bytes0 += e.bytes.Load()
	}
	var lat, watchLat []time.Duration
	for i := range changes {
		r := revBase + i
		api := changedAPI(r)
		c := &change{marker: fmt.Sprintf("/backend/%s/r%d", api.Id, r), done: make(chan struct{})}
		c.remaining.Store(int64(n))
		cur.Store(c)
		rev := commit(b, st, func(in *model.Instance) []proto.Message {
			pub, err := xdstest.Publish(in.With([]proto.Message{api}, nil), api.Id, r)
			if err != nil {
				b.Fatal(err)
			}
			return append([]proto.Message{api}, pub...)
		})
		t0 := time.Now()
		select {
		case <-c.done:
		case <-time.After(60 * time.Second):
			b.Fatalf("change %d reached %d of %d clients", i, int64(n)-c.remaining.Load(), n)
		}
		lat = append(lat, time.Unix(0, c.last.Load()).Sub(t0))
		if at, ok := watch.get(rev); ok {
			watchLat = append(watchLat, max(at.Sub(t0), 0))
		}
		time.Sleep(20 * time.Millisecond) // let the ACKs land
	}
	m1 := p.metrics(b)
	var bytes1 int64
	for _, e := range envoys {
		bytes1 += e.bytes.Load()
		if why := e.rejected(); why != "" {
			b.Error(why)
		}
	}
	parts := []string{fmt.Sprintf("watch %s / %s", ms(percentile(watchLat, 0.5)), ms(percentile(watchLat, 0.99)))}
	for _, s := range stageMetrics {
		h := m1.histogram(s.metric).minus(m0.histogram(s.metric))
		parts = append(parts, fmt.Sprintf("%s %s / %s", s.name, ms(h.quantile(0.5)), ms(h.quantile(0.99))))
	}
	parts = append(parts, fmt.Sprintf("commit → last client %s / %s", ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99))))
	return propagation{
		p50: percentile(lat, 0.5), p99: percentile(lat, 0.99),
		bytesPerClient: float64(bytes1-bytes0) / float64(n) / float64(changes),
		stages:         strings.Join(parts, "; "),
	}
}

func waitSynced(b *testing.B, envoys []*envoy, timeout time.Duration) time.Time {
	b.Helper()
	deadline := time.After(timeout)
	var last time.Time
	for _, e := range envoys {
		select {
		case <-e.synced:
			if t := time.Unix(0, e.syncedAt.Load()); t.After(last) {
				last = t
			}
		case <-e.done:
			b.Fatalf("client %s: stream ended before sync: %v", e.id, e.err)
		case <-deadline:
			b.Fatalf("client %s not synced within %v", e.id, timeout)
		}
	}
	return last
}

type fleetResult struct {
	sync, change time.Duration
	peak         int64
	// apigwCPU and clientsCPU are the CPU time apigw and the benchmark
	// process (the clients) used until every client was synced.
	apigwCPU, clientsCPU time.Duration
}

// fleet connects n clients at once and measures until all are synced,
// sampling apigw's RSS.
func fleet(ctx context.Context, b *testing.B, p *apigwProc, n int) fleetResult {
	b.Helper()
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if cur, _ := p.rss(b); cur > peak.Load() {
				peak.Store(cur)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	var cur atomic.Pointer[change]
	cur.Store(&change{done: make(chan struct{})})
	marker := func() string { return cur.Load().marker }
	var reported sync.Map
	onMarker := func(e *envoy, at time.Time) {
		c := cur.Load()
		if _, dup := reported.LoadOrStore(e.id+c.marker, true); dup {
			return
		}
		for {
			l := c.last.Load()
			if at.UnixNano() <= l || c.last.CompareAndSwap(l, at.UnixNano()) {
				break
			}
		}
		if c.remaining.Add(-1) == 0 {
			close(c.done)
		}
	}
	cpu0, self0 := p.cpu(b), procCPU(b, os.Getpid())
	start := time.Now()
	envoys := make([]*envoy, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			e, err := dialEnvoy(ctx, p.XDS, xdstest.Node(fmt.Sprintf("fleet-%04d", i), model.DefaultInstance, "1.40.0"), false, i < fullClients(), marker, onMarker)
			if err != nil {
				b.Error(err)
				return
			}
			envoys[i] = e
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	defer func() {
		for _, e := range envoys {
			e.close()
		}
	}()
	last := waitSynced(b, envoys, 10*time.Minute)
	res := fleetResult{sync: last.Sub(start), apigwCPU: p.cpu(b) - cpu0, clientsCPU: procCPU(b, os.Getpid()) - self0}
	for _, e := range envoys {
		if why := e.rejected(); why != "" {
			b.Error(why)
		}
	}
	time.Sleep(2 * time.Second)
	close(stop)
	<-sampled
	_, hwm := p.rss(b)
	res.peak = max(peak.Load(), hwm)

	st := p.store(b)
	go func() { _ = st.Watch(ctx, live.NewFeed()) }()
	api := changedAPI(99999)
	c := &change{marker: fmt.Sprintf("/backend/%s/r%d", api.Id, 99999), done: make(chan struct{})}
	c.remaining.Store(int64(n))
	cur.Store(c)
	commit(b, st, func(in *model.Instance) []proto.Message {
		pub, err := xdstest.Publish(in.With([]proto.Message{api}, nil), api.Id, 99999)
		if err != nil {
			b.Fatal(err)
		}
		return append([]proto.Message{api}, pub...)
	})
	t0 := time.Now()
	select {
	case <-c.done:
		res.change = time.Unix(0, c.last.Load()).Sub(t0)
	case <-time.After(5 * time.Minute):
		b.Fatalf("the change reached %d of %d clients", int64(n)-c.remaining.Load(), n)
	}
	return res
}
