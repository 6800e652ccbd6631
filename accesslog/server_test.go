package accesslog_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/dataplane"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// entry is what Envoy's http_grpc logger writes for one request on an
// apigw route: the route metadata copied into custom tags, the dynamic
// metadata of ext_authz (and the rate-limit service) and the timings.
type entry struct {
	api, env, group string
	status          int
	flags           *datav3.ResponseFlags
	details         string
	authz, rl       map[string]any
	total, upstream time.Duration // upstream 0: no backend called
	noRoute         bool
	periodic        bool // an intermediate entry (DownstreamPeriodic)
}

func (e entry) build() *datav3.HTTPAccessLogEntry {
	start := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	c := &datav3.AccessLogCommon{
		StartTime:                   timestamppb.New(start),
		Duration:                    durationpb.New(e.total),
		TimeToLastRxByte:            durationpb.New(time.Microsecond),
		TimeToLastDownstreamTxByte:  durationpb.New(e.total),
		TimeToFirstDownstreamTxByte: durationpb.New(e.total),
		ResponseFlags:               e.flags,
		AccessLogType:               datav3.AccessLogType_DownstreamEnd,
		DownstreamRemoteAddress:     &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "10.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 40000}}}},
	}
	if !e.noRoute {
		c.RouteName = "api." + e.api + "." + e.env
		c.CustomTags = map[string]string{dataplane.AccessLogTagInstance: "default", dataplane.AccessLogTagGroup: e.group, dataplane.AccessLogTagAPI: e.api,
			dataplane.AccessLogTagAPIName: "name-" + e.api, dataplane.AccessLogTagEnv: e.env}
	}
	if e.periodic {
		c.AccessLogType = datav3.AccessLogType_DownstreamPeriodic
	}
	if e.upstream > 0 {
		tx := e.total - e.upstream - time.Millisecond
		c.TimeToFirstUpstreamTxByte, c.TimeToLastUpstreamTxByte = durationpb.New(tx), durationpb.New(tx)
		c.TimeToFirstUpstreamRxByte, c.TimeToLastUpstreamRxByte = durationpb.New(tx+e.upstream/2), durationpb.New(tx+e.upstream)
		c.UpstreamCluster = "backend"
	}
	md := map[string]*structpb.Struct{}
	if e.authz != nil {
		md[dataplane.ExtAuthzMetadataNamespace] = must(structpb.NewStruct(e.authz))
	}
	if e.rl != nil {
		md[dataplane.RateLimitMetadataNamespace] = must(structpb.NewStruct(e.rl))
	}
	if len(md) > 0 {
		c.Metadata = &corev3.Metadata{FilterMetadata: md}
	}
	return &datav3.HTTPAccessLogEntry{CommonProperties: c, ProtocolVersion: datav3.HTTPAccessLogEntry_HTTP11,
		Request:  &datav3.HTTPRequestProperties{RequestMethod: corev3.RequestMethod_GET, Path: "/x", Authority: "h", RequestId: "r"},
		Response: &datav3.HTTPResponseProperties{ResponseCode: wrapperspb.UInt32(uint32(e.status)), ResponseCodeDetails: e.details}}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

type harness struct {
	stats *accesslog.Stats
	srv   *accesslog.Server
	reg   *prometheus.Registry
	clk   *clock
	conn  *grpc.ClientConn
}

func newHarness(t *testing.T, opts accesslog.StatsOptions) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry(), clk: &clock{t: time.Date(2026, 5, 1, 10, 0, 5, 0, time.UTC)}}
	opts.Now, opts.Registerer = h.clk.Now, h.reg
	var err error
	if h.stats, err = accesslog.NewStats(opts); err != nil {
		t.Fatal(err)
	}
	if h.srv, err = accesslog.New(h.stats, slog.New(slog.DiscardHandler), h.reg); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	h.srv.Register(gs)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	if h.conn, err = grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.conn.Close() })
	return h
}

// send streams batches as one Envoy logger does: the identifier on the
// first message only.
func (h *harness) send(t *testing.T, logName string, batches ...[]entry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := alsv3.NewAccessLogServiceClient(h.conn).StreamAccessLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range batches {
		msg := &alsv3.StreamAccessLogsMessage{LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{}}}
		for _, e := range b {
			msg.GetHttpLogs().LogEntry = append(msg.GetHttpLogs().LogEntry, e.build())
		}
		if i == 0 {
			msg.Identifier = &alsv3.StreamAccessLogsMessage_Identifier{LogName: logName,
				Node: &corev3.Node{Id: "envoy-1", Cluster: "default"}}
		}
		if err := st.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
}

func window(t *testing.T, h *harness, api, env, w string) map[string]any {
	t.Helper()
	ms, err := h.stats.APIMetrics("default", api, env, []string{w})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("%s/%s: %d results", api, env, len(ms))
	}
	x := ms[0].GetWindows()[0]
	return map[string]any{"calls": x.GetCalls(), "2xx": x.GetStatus_2Xx(), "4xx": x.GetStatus_4Xx(), "5xx": x.GetStatus_5Xx(),
		"denied": x.GetDenied(), "throttled": x.GetThrottled(), "codes": x.GetErrorCodes(), "p50": x.GetLatencyP50Ms(),
		"p99": x.GetLatencyP99Ms(), "backend": x.GetBackendCalls(), "bp50": x.GetBackendP50Ms(), "group": ms[0].GetGroupId(), "name": ms[0].GetApiName()}
}

// Envoy-shaped batches drive the per-API figures: calls by class, APIG
// error codes from ext_authz's and the rate-limit service's metadata and
// from response flags, app counts, latencies; other log names are ignored.
func TestStreamDrivesPerAPIFigures(t *testing.T) {
	h := newHarness(t, accesslog.StatsOptions{})
	ok := entry{api: "a1", env: "RELEASE", group: "g1", status: 200, total: 20 * time.Millisecond, upstream: 15 * time.Millisecond,
		authz: map[string]any{dataplane.ExtAuthzMetaAppID: "app1", dataplane.ExtAuthzMetaAccountID: "acct"}}
	denied := entry{api: "a1", env: "RELEASE", group: "g1", status: 401, total: 2 * time.Millisecond,
		flags:   &datav3.ResponseFlags{UnauthorizedDetails: &datav3.ResponseFlags_Unauthorized{Reason: datav3.ResponseFlags_Unauthorized_EXTERNAL_SERVICE}},
		details: "ext_authz_denied", authz: map[string]any{dataplane.ExtAuthzMetaErrorCode: "APIG.0303", dataplane.ExtAuthzMetaAPIID: "a1", dataplane.ExtAuthzMetaEnvID: "RELEASE"}}
	throttled := entry{api: "a1", env: "RELEASE", group: "g1", status: 429, total: 3 * time.Millisecond,
		flags: &datav3.ResponseFlags{RateLimited: true}, details: "request_rate_limited",
		authz: map[string]any{dataplane.ExtAuthzMetaAppID: "app1"}, rl: map[string]any{dataplane.ExtAuthzMetaErrorCode: "APIG.0308"}}
	timeout := entry{api: "a1", env: "TEST", group: "g1", status: 504, total: 60 * time.Millisecond,
		flags: &datav3.ResponseFlags{UpstreamRequestTimeout: true}, details: "upstream_response_timeout"}
	noRoute := entry{noRoute: true, status: 404, total: time.Millisecond, flags: &datav3.ResponseFlags{NoRouteFound: true}, details: "route_not_found"}

	h.send(t, dataplane.AccessLogName, []entry{ok, ok, denied}, []entry{throttled, ok, timeout, noRoute})
	h.send(t, "someone.else", []entry{ok, ok})
	periodic := ok
	periodic.periodic = true
	h.send(t, dataplane.AccessLogName, []entry{periodic})

	got := window(t, h, "a1", "RELEASE", "1m")
	want := map[string]any{"calls": int64(5), "2xx": int64(3), "4xx": int64(2), "5xx": int64(0), "denied": int64(1), "throttled": int64(1),
		"backend": int64(3), "group": "g1", "name": "name-a1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("a1/RELEASE %s = %v, want %v", k, got[k], v)
		}
	}
	if c := got["codes"].(map[string]int64); len(c) != 2 || c["APIG.0303"] != 1 || c["APIG.0308"] != 1 {
		t.Errorf("codes %v", c)
	}
	if p := got["bp50"].(float64); p < 10 || p > 20 {
		t.Errorf("backend p50 %.2f ms, want about 15", p)
	}
	if p := got["p99"].(float64); p < 15 || p > 30 {
		t.Errorf("p99 %.2f ms, want about 20", p)
	}
	if got := window(t, h, "a1", "TEST", "5m"); got["5xx"] != int64(1) || got["codes"].(map[string]int64)["APIG.0203"] != 1 || got["backend"] != int64(0) {
		t.Errorf("a1/TEST %v", got)
	}
	if got := window(t, h, accesslog.NoAPI, "", "1h"); got["calls"] != int64(1) || got["codes"].(map[string]int64)["APIG.0101"] != 1 {
		t.Errorf("no API: %v", got)
	}

	for series, want := range map[string]float64{
		`apigw_api_requests_total{api="a1",class="2xx",env="RELEASE",gateway="default",group="g1"}`:     3,
		`apigw_api_requests_total{api="a1",class="4xx",env="RELEASE",gateway="default",group="g1"}`:     2,
		`apigw_api_requests_total{api="a1",class="5xx",env="TEST",gateway="default",group="g1"}`:        1,
		`apigw_api_errors_total{api="a1",code="APIG.0308",env="RELEASE",gateway="default",group="g1"}`:  1,
		`apigw_api_errors_total{api="(none)",code="APIG.0101",env="",gateway="default",group=""}`:       1,
		`apigw_app_requests_total{app="app1",gateway="default"}`:                                        4,
		`apigw_accesslog_entries_total{result="recorded"}`:                                              7,
		`apigw_accesslog_entries_total{result="ignored"}`:                                               3,
		`apigw_api_request_duration_seconds_count{api="a1",env="RELEASE",gateway="default",group="g1"}`: 5,
		`apigw_api_backend_duration_seconds_count{api="a1",env="RELEASE",gateway="default",group="g1"}`: 3,
	} {
		if got := metric(t, h.reg, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

// metric reads one series from a registry.
func metric(t *testing.T, reg *prometheus.Registry, series string) float64 {
	t.Helper()
	name, labels, _ := strings.Cut(series, "{")
	labels = strings.TrimSuffix(labels, "}")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		base := name
		suffix := ""
		for _, s := range []string{"_count", "_sum"} {
			if strings.HasSuffix(name, s) && mf.GetName() == strings.TrimSuffix(name, s) {
				base, suffix = mf.GetName(), s
			}
		}
		if mf.GetName() != base {
			continue
		}
		for _, m := range mf.GetMetric() {
			var parts []string
			for _, l := range m.GetLabel() {
				parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
			}
			if strings.Join(parts, ",") != labels {
				continue
			}
			switch {
			case suffix == "_count":
				return float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// The windows roll: a call leaves the 1-minute window after a minute, the
// 5-minute one after five, and stays in the hour and the day.
func TestWindowsRoll(t *testing.T) {
	h := newHarness(t, accesslog.StatsOptions{})
	e := entry{api: "a1", env: "RELEASE", group: "g1", status: 200, total: 5 * time.Millisecond}
	h.send(t, dataplane.AccessLogName, []entry{e, e})
	calls := func(w string) int64 { return window(t, h, "a1", "RELEASE", w)["calls"].(int64) }
	steps := []struct {
		after time.Duration
		want  [4]int64 // 1m 5m 1h 24h
	}{
		{0, [4]int64{2, 2, 2, 2}},
		{70 * time.Second, [4]int64{0, 2, 2, 2}},
		{5 * time.Minute, [4]int64{0, 0, 2, 2}},
		{62 * time.Minute, [4]int64{0, 0, 0, 2}},
		{24 * time.Hour, [4]int64{0, 0, 0, 0}},
	}
	for _, st := range steps {
		h.clk.Add(st.after)
		for i, w := range accesslog.WindowNames() {
			if got := calls(w); got != st.want[i] {
				t.Errorf("after +%v: %s window has %d calls, want %d", st.after, w, got, st.want[i])
			}
		}
	}
}

// At most MaxAPIs (API, environment) pairs get their own series per
// instance; the next go to "(other)" until a tracked one has been idle,
// and its series are then deleted.
func TestSeriesAreBounded(t *testing.T) {
	h := newHarness(t, accesslog.StatsOptions{MaxAPIs: 2, MaxApps: 1, Idle: 10 * time.Minute})
	e := func(api, app string) entry {
		return entry{api: api, env: "RELEASE", group: "g1", status: 200, total: time.Millisecond, authz: map[string]any{dataplane.ExtAuthzMetaAppID: app}}
	}
	h.send(t, dataplane.AccessLogName, []entry{e("a1", "x"), e("a2", "y"), e("a3", "y"), e("a4", "z")})
	if got := metric(t, h.reg, `apigw_api_requests_total{api="(other)",class="2xx",env="",gateway="default",group=""}`); got != 2 {
		t.Errorf("(other) = %v, want 2", got)
	}
	if got := metric(t, h.reg, `apigw_api_requests_total{api="a3",class="2xx",env="RELEASE",gateway="default",group="g1"}`); got != -1 {
		t.Errorf("a3 has its own series beyond the limit")
	}
	if got := metric(t, h.reg, `apigw_app_requests_total{app="(other)",gateway="default"}`); got != 3 {
		t.Errorf("app (other) = %v, want 3", got)
	}
	if got := metric(t, h.reg, `apigw_api_tracked{gateway="default"}`); got != 2 {
		t.Errorf("tracked = %v", got)
	}
	h.clk.Add(11 * time.Minute)
	h.send(t, dataplane.AccessLogName, []entry{e("a2", "y"), e("a3", "y")})
	// a1 was idle longest: a3 took its place.
	if got := metric(t, h.reg, `apigw_api_requests_total{api="a1",class="2xx",env="RELEASE",gateway="default",group="g1"}`); got != -1 {
		t.Errorf("a1's series survived its eviction: %v", got)
	}
	if got := metric(t, h.reg, `apigw_api_requests_total{api="a3",class="2xx",env="RELEASE",gateway="default",group="g1"}`); got != 1 {
		t.Errorf("a3 = %v, want 1", got)
	}
	if got := metric(t, h.reg, `apigw_api_tracked{gateway="default"}`); got != 2 {
		t.Errorf("tracked = %v", got)
	}
}
