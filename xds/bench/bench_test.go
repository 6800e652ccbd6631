package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/xds/server"
	"github.com/apigw/apigw/xds/snapshot"
	xdssync "github.com/apigw/apigw/xds/sync"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

// Targets of issue #3.
const (
	targetTranslate   = 200 * time.Millisecond
	targetTranslateMB = 300
	targetPropagation = 50 * time.Millisecond
	targetFanout      = time.Second
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

// plane is a running control plane: the feed (fed by etcd or by the
// benchmark), the controller, the cache and the ADS server.
type plane struct {
	addr string
	feed *model.Feed
	sync chan int64
}

func startPlane(b *testing.B, ctx context.Context, feed *model.Feed) *plane {
	b.Helper()
	p := &plane{feed: feed, sync: make(chan int64, 1024)}
	cache := snapshot.New(quiet())
	srv := server.New(ctx, cache, model.NewStatus(), quiet(), server.Options{})
	g := grpc.NewServer(server.GRPCOptions()...)
	srv.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	b.Cleanup(g.Stop)
	p.addr = lis.Addr().String()
	ctrl := xdssync.New(feed, cache, model.NewStatus(), quiet(), xdssync.Options{OnSync: func(r int64) {
		select {
		case p.sync <- r:
		default:
		}
	}})
	go func() { _ = ctrl.Run(ctx) }()
	return p
}

// clients connects n ADS clients, each over its own connection like
// Envoys; they report the routes containing the current marker.
func (p *plane) clients(b *testing.B, ctx context.Context, n, groups int, marker *atomic.Value) []*envoy {
	b.Helper()
	want := func() string { s, _ := marker.Load().(string); return s }
	var out []*envoy
	for i := range n {
		conn, err := dialConn(p.addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = conn.Close() })
		e, err := connect(ctx, conn, fmt.Sprintf("envoy-%04d", i), groupRoutes(groups), want)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkPropagation: with 10 000 APIs in etcd and 100 ADS clients
// connected, one API change committed to etcd until a client receives it.
func BenchmarkPropagation(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := etcdStore(b)
	objs := xdstest.Objects(100, 100)
	seed(b, st, objs)
	feed := model.NewFeed()
	go func() { _ = st.Watch(ctx, feed) }()
	// Arrival of each revision in the feed (etcd watch and model rebuild).
	fed := make(chan fedSnap, 1024)
	go func() {
		for s := range feed.Subscribe(ctx) {
			fed <- fedSnap{s.Revision, time.Now()}
		}
	}()
	p := startPlane(b, ctx, feed)
	var marker atomic.Value
	envoys := p.clients(b, ctx, 100, 100, &marker)
	var lat, installed, model_ []time.Duration
	b.ResetTimer()
	for i := -1; b.Loop(); i++ {
		m := fmt.Sprintf("/backend/g050-a0007/r%d", 1000+i)
		marker.Store(m)
		b.StopTimer()
		base, err := st.Load(ctx, model.DefaultInstance)
		if err != nil {
			b.Fatal(err)
		}
		api := xdstest.API("g050", 7, 1000+i)
		pub, err := xdstest.Publish(base.Instance.With([]proto.Message{api}, nil), api.Id, 1000+i)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		// From the write to etcd to the route at the client.
		start := time.Now()
		rev, err := st.Commit(ctx, base, &store.Change{Puts: append([]proto.Message{api}, pub...)})
		if err != nil {
			b.Fatal(err)
		}
		inst := p.waitSync(b, rev)
		fedAt := waitFed(b, fed, rev)
		waitMarker(b, envoys[0], m)
		if i < 0 {
			continue // warm-up: the clients' initial configuration
		}
		lat = append(lat, time.Since(start))
		installed = append(installed, inst.Sub(start))
		model_ = append(model_, fedAt.Sub(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(model_, 0.5).Microseconds())/1000, "p50-fed-ms")
	b.ReportMetric(float64(percentile(installed, 0.5).Microseconds())/1000, "p50-installed-ms")
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(percentile(lat, 0.99))/float64(targetPropagation), "p99/target")
}

type fedSnap struct {
	rev int64
	at  time.Time
}

func waitFed(b *testing.B, fed chan fedSnap, rev int64) time.Time {
	b.Helper()
	for {
		select {
		case f := <-fed:
			if f.rev >= rev {
				return f.at
			}
		case <-time.After(30 * time.Second):
			b.Fatalf("revision %d never fed", rev)
		}
	}
}

// waitSync waits until the controller installed revision rev and returns
// when it did.
func (p *plane) waitSync(b *testing.B, rev int64) time.Time {
	b.Helper()
	for {
		select {
		case r := <-p.sync:
			if r >= rev {
				return time.Now()
			}
		case <-time.After(30 * time.Second):
			b.Fatalf("revision %d never installed", rev)
		}
	}
}

func waitMarker(b *testing.B, e *envoy, m string) {
	b.Helper()
	for {
		select {
		case got, ok := <-e.marker:
			if !ok {
				b.Fatal("ADS stream closed")
			}
			if got == m {
				return
			}
		case <-time.After(30 * time.Second):
			b.Fatalf("change %s never arrived", m)
		}
	}
}

// BenchmarkFanout: 1 000 connected ADS clients all receive an update.
func BenchmarkFanout(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, err := xdstest.Instance(model.DefaultInstance, xdstest.Objects(10, 100))
	if err != nil {
		b.Fatal(err)
	}
	feed := model.NewFeed()
	feed.Publish(model.NewSnapshot(1, map[string]*model.Instance{in.Name: in}, nil))
	p := startPlane(b, ctx, feed)
	var marker atomic.Value
	envoys := p.clients(b, ctx, 1000, 10, &marker)
	var lat []time.Duration
	b.ResetTimer()
	for i := -1; b.Loop(); i++ {
		m := fmt.Sprintf("/backend/g005-a0007/r%d", 1000+i)
		marker.Store(m)
		next, err := xdstest.Change(in, "g005", 7, 1000+i)
		if err != nil {
			b.Fatal(err)
		}
		in = next
		start := time.Now()
		feed.Publish(model.NewSnapshot(int64(3+i), map[string]*model.Instance{in.Name: in}, nil))
		for _, e := range envoys {
			waitMarker(b, e, m)
		}
		if i < 0 {
			continue // warm-up: the clients' initial configuration
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(percentile(lat, 0.99))/float64(targetFanout), "p99/target")
}

func etcdStore(b *testing.B) *store.Store {
	b.Helper()
	e, err := store.StartEmbedded(context.Background(), store.EmbeddedConfig{Dir: b.TempDir(), ClientURL: "http://127.0.0.1:0", PeerURL: "http://127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint()}, MaxCallSendMsgSize: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cli.Close() })
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s, err := store.NewSealer(key)
	if err != nil {
		b.Fatal(err)
	}
	return store.New(cli, store.NewCodec(s), quiet(), nil)
}

func commit(b *testing.B, st *store.Store, ch func(*model.Instance) *store.Change) {
	b.Helper()
	base, err := st.Load(context.Background(), model.DefaultInstance)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Commit(context.Background(), base, ch(base.Instance)); err != nil {
		b.Fatal(err)
	}
}

// seed writes the definitions and publishes every API, in batches.
func seed(b *testing.B, st *store.Store, objs []proto.Message) {
	b.Helper()
	const batch = 2000
	for i := 0; i < len(objs); i += batch {
		part := objs[i:min(i+batch, len(objs))]
		commit(b, st, func(*model.Instance) *store.Change { return &store.Change{Puts: part} })
	}
	var apis []string
	for _, o := range objs {
		if a, ok := o.(interface{ GetReqUri() string }); ok && a.GetReqUri() != "" {
			apis = append(apis, model.IDOf(o))
		}
	}
	for i := 0; i < len(apis); i += batch / 2 {
		part := apis[i:min(i+batch/2, len(apis))]
		commit(b, st, func(in *model.Instance) *store.Change {
			var puts []proto.Message
			for _, id := range part {
				p, err := xdstest.Publish(in, id, 1)
				if err != nil {
					b.Fatal(err)
				}
				puts = append(puts, p...)
			}
			return &store.Change{Puts: puts}
		})
	}
}
