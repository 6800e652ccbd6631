package accesslog_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/dataplane"
)

// noopALS receives and decodes the messages and does nothing else: the
// baseline of the ingestion benchmark.
type noopALS struct {
	alsv3.UnimplementedAccessLogServiceServer
}

func (noopALS) StreamAccessLogs(st alsv3.AccessLogService_StreamAccessLogsServer) error {
	msg := &alsv3.StreamAccessLogsMessage{}
	for {
		if err := st.RecvMsg(msg); err != nil {
			if errors.Is(err, io.EOF) {
				return st.SendAndClose(&alsv3.StreamAccessLogsResponse{})
			}
			return err
		}
	}
}

// benchBatch is one Envoy message of about buffer_size_bytes (16 KiB):
// entries of 50 APIs, a mix of successes, denials and throttling.
func benchBatch() (*alsv3.StreamAccessLogsMessage, int) {
	msg := &alsv3.StreamAccessLogsMessage{LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{}}}
	size := 0
	for i := 0; size < 16384; i++ {
		e := entry{api: fmt.Sprintf("api%02d", i%50), env: "RELEASE", group: "g1", status: 200, total: time.Duration(i%40+1) * time.Millisecond,
			upstream: time.Duration(i%30+1) * time.Millisecond, authz: map[string]any{dataplane.ExtAuthzMetaAppID: fmt.Sprintf("app%d", i%7)}}
		switch i % 10 {
		case 8:
			e.status, e.upstream, e.flags = 401, 0, &datav3.ResponseFlags{UnauthorizedDetails: &datav3.ResponseFlags_Unauthorized{}}
			e.authz = map[string]any{dataplane.ExtAuthzMetaErrorCode: "APIG.0303"}
		case 9:
			e.status, e.upstream, e.flags = 429, 0, &datav3.ResponseFlags{RateLimited: true}
			e.rl = map[string]any{dataplane.ExtAuthzMetaErrorCode: "APIG.0308"}
		}
		b := e.build()
		size += proto.Size(b)
		msg.GetHttpLogs().LogEntry = append(msg.GetHttpLogs().LogEntry, b)
	}
	return msg, len(msg.GetHttpLogs().GetLogEntry())
}

func serveALS(b *testing.B, register func(*grpc.Server)) *grpc.ClientConn {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer()
	register(gs)
	go func() { _ = gs.Serve(lis) }()
	b.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

// BenchmarkIngestion streams Envoy-shaped batches on 1, 16 and 64 streams
// (Envoy opens one per worker thread) to apigw's access-log service and,
// in the same run, to a server that only decodes them. b.N counts the
// entries sent to each; entries/s is a server's throughput until it has
// handled the last message, ratio is apigw's over the no-op's.
func BenchmarkIngestion(b *testing.B) {
	batch, perMsg := benchBatch()
	wire, err := proto.Marshal(batch)
	if err != nil {
		b.Fatal(err)
	}
	first := proto.Clone(batch).(*alsv3.StreamAccessLogsMessage)
	first.Identifier = &alsv3.StreamAccessLogsMessage_Identifier{LogName: dataplane.AccessLogName, Node: &corev3.Node{Id: "bench", Cluster: "default"}}
	firstWire, err := proto.Marshal(first)
	if err != nil {
		b.Fatal(err)
	}
	servers := []struct {
		name     string
		register func(*grpc.Server)
	}{
		{"noop", func(s *grpc.Server) { alsv3.RegisterAccessLogServiceServer(s, noopALS{}) }},
		{"apigw", func(s *grpc.Server) {
			reg := prometheus.NewRegistry()
			stats, err := accesslog.NewStats(accesslog.StatsOptions{Registerer: reg})
			if err != nil {
				b.Fatal(err)
			}
			srv, err := accesslog.New(stats, slog.New(slog.DiscardHandler), reg)
			if err != nil {
				b.Fatal(err)
			}
			srv.Register(s)
		}},
	}
	for _, streams := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			conns := make([]*grpc.ClientConn, len(servers))
			for i, sv := range servers {
				conns[i] = serveALS(b, sv.register)
			}
			// The servers take turns, ten rounds each, so that the load of
			// the machine weighs on both alike.
			const rounds = 10
			msgs := max(b.N/perMsg/rounds, streams)
			spent := make([]time.Duration, len(servers))
			b.SetBytes(int64(len(wire)) / int64(perMsg))
			b.ResetTimer()
			for range rounds {
				for i, conn := range conns {
					started := time.Now()
					if err := stream(conn, streams, msgs, wire, firstWire); err != nil {
						b.Fatal(err)
					}
					spent[i] += time.Since(started)
				}
			}
			b.StopTimer()
			rate := func(i int) float64 { return float64(rounds*msgs*perMsg) / spent[i].Seconds() }
			b.ReportMetric(rate(0), "noop-entries/s")
			b.ReportMetric(rate(1), "apigw-entries/s")
			b.ReportMetric(rate(1)/rate(0), "ratio")
		})
	}
}

// stream sends msgs pre-encoded batches over streams concurrent streams
// (the first of each with the identifier) and waits for the server's
// answers, as Envoy's loggers do when they close.
func stream(conn *grpc.ClientConn, streams, msgs int, wire, firstWire []byte) error {
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for s := range streams {
		n := msgs / streams
		if s < msgs%streams {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The batches go out pre-encoded, as Envoy's do: the client's
			// CPU is not what is measured.
			st, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ClientStreams: true},
				"/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs", grpc.ForceCodec(rawCodec{}))
			if err != nil {
				errs <- err
				return
			}
			for i := range n {
				m := wire
				if i == 0 {
					m = firstWire
				}
				if err := st.SendMsg(m); err != nil {
					errs <- err
					return
				}
			}
			if err := st.CloseSend(); err != nil {
				errs <- err
				return
			}
			var resp []byte
			if err := st.RecvMsg(&resp); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// BenchmarkMemoryPerAPI reports the heap an (API, environment) pair takes
// once tracked: its windows and Prometheus series.
func BenchmarkMemoryPerAPI(b *testing.B) {
	const apis = 1000
	for range b.N {
		reg := prometheus.NewRegistry()
		stats, err := accesslog.NewStats(accesslog.StatsOptions{MaxAPIs: apis, Registerer: reg})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range apis {
			r := accesslog.Record{Instance: "default", Group: "g1", API: fmt.Sprintf("api%04d", i), APIName: "n", Env: "RELEASE",
				Status: 200, Duration: time.Millisecond, Upstream: time.Millisecond, HasUpstream: true, ErrorCode: "APIG.0308"}
			stats.Add(&r)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/apis, "bytes/api")
		runtime.KeepAlive(stats)
	}
}

// rawCodec sends pre-encoded messages ([]byte) and reads the response's
// bytes.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }
