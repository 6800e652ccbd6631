package server

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/recovery"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// breakerFeed is a feed with one published API with a breaker plug-in
// that opens after two 502s and answers a mock.
func breakerFeed(t *testing.T) *live.Feed {
	t.Helper()
	objs := []proto.Message{
		&apigwv1.Instance{Name: model.DefaultInstance},
		&apigwv1.ApiGroup{Id: "g1", Name: "shop", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}}},
		&apigwv1.Api{Id: "api-brk", Name: "fragile", GroupId: "g1", ReqProtocol: model.ProtoBoth, ReqMethod: "GET", ReqUri: "/fragile",
			AuthType: model.AuthNone, BackendApi: &apigwv1.BackendApi{UrlDomain: "backend.internal:8080", ReqUri: "/fragile"}},
		&apigwv1.Plugin{Id: "brk", PluginName: "brk", PluginType: model.PluginBreaker, PluginContent: `{"breaker_condition":{"breaker_type":"condition",` +
			`"unhealthy_condition":"[\"$context.statusCode\",\"in\",\"502\"]","unhealthy_threshold":2,"time_window":10,"open_breaker_time":30},` +
			`"downgrade_default":{"type":"mock","mock_info":{"status_code":200,"result_content":"degraded"}}}`},
		&apigwv1.PluginBinding{Id: "pb", ApiId: "api-brk", EnvId: model.ReleaseEnvID, PluginId: "brk"},
	}
	for _, o := range objs {
		model.Normalize(o)
	}
	draft := model.NewInstance(model.DefaultInstance, objs)
	pub, err := draft.Publication("api-brk", model.ReleaseEnvID, "pub-1", "v1", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pub.PublishTime = timestamppb.Now()
	in := model.NewInstance(model.DefaultInstance, append(objs, pub, &apigwv1.Release{ApiId: "api-brk", EnvId: model.ReleaseEnvID, PublicationId: "pub-1"}))
	feed := live.NewFeed()
	feed.Publish(live.NewSnapshot(1, map[string]*model.Instance{in.Name: in}, nil))
	return feed
}

// The sidecar layout's apigw (--components=extauth,breakers): the
// breakers component receives the access log of the Envoy next to it and
// feeds the breakers its ext_authz answers from, so a breaker opens there
// with no accesslog component in the process.
func TestSidecarBreakersOpenFromTheirAccessLog(t *testing.T) {
	cfg, err := ParseConfig([]string{"--components=extauth,breakers", "--extauth-addr=127.0.0.1:0", "--breakers-addr=127.0.0.1:0"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	reg := prometheus.NewRegistry()
	svcs, err := services(&deps{cfg: cfg, log: log, reg: reg, feed: breakerFeed(t)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "breaker plug-ins never open") {
		t.Errorf("warned that breakers never open with the breakers component: %s", logs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conns := map[string]*grpc.ClientConn{}
	rec := recovery.New(log, reg)
	for _, s := range svcs {
		gs, _ := s.newServer(rec)
		if err := s.register(ctx, gs); err != nil {
			t.Fatal(err)
		}
		if s.run != nil {
			go func() { _ = s.run(ctx) }()
		}
		conns[s.name] = testutil.ServeAndDialGRPC(t, gs)
	}
	if len(conns) != 2 || conns[CompExtAuth] == nil || conns[CompBreakers] == nil {
		t.Fatalf("services %v, want extauth and breakers", conns)
	}
	authz := authv3.NewAuthorizationClient(conns[CompExtAuth])
	check := func() *authv3.CheckResponse {
		t.Helper()
		resp, err := authz.Check(ctx, checkRequest("api-brk", "/fragile"))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if d := check().GetDeniedResponse(); d != nil {
		t.Fatalf("closed breaker denied: %v", d)
	}
	stream, err := alsv3.NewAccessLogServiceClient(conns[CompBreakers]).StreamAccessLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := stream.Send(&alsv3.StreamAccessLogsMessage{
		Identifier: &alsv3.StreamAccessLogsMessage_Identifier{Node: &corev3.Node{Id: "envoy-1", Cluster: model.DefaultInstance}, LogName: dataplane.AccessLogName},
		LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{
			LogEntry: []*datav3.HTTPAccessLogEntry{backendEntry("api-brk", 502, now), backendEntry("api-brk", 502, now)}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.CloseAndRecv(); err != nil { // every entry read
		t.Fatal(err)
	}
	d := check().GetDeniedResponse()
	if d.GetStatus().GetCode() != 200 || d.GetBody() != "degraded" {
		t.Fatalf("open breaker answered %v, want the mock downgrade", d)
	}
	// Its stream metrics are apart from the access-log service's
	// (dashboards sum those; in the sidecar layout both see each entry).
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "apigw_accesslog_entries_total" && m.GetCounter().GetValue() == 2 {
				for _, l := range m.GetLabel() {
					found = found || l.GetName() == "sink" && l.GetValue() == CompBreakers
				}
			}
		}
	}
	if !found {
		t.Error(`no apigw_accesslog_entries_total{result="recorded",sink="breakers"} = 2`)
	}
}

// A breakers component needs ext_authz in its process and is refused
// beside the accesslog component, which already feeds the breakers.
func TestBreakersComponentNeedsExtAuthWithoutAccessLog(t *testing.T) {
	for comps, want := range map[string]string{
		"breakers,ratelimit":           "add extauth",
		"extauth,accesslog,breakers":   "accesslog already feeds",
		"extauth,breakers,ratelimit":   "",
		"all":                          "",
		"admin,xds,accesslog":          "",
		"extauth,breakers,nonexistent": "unknown component",
	} {
		_, err := ParseConfig([]string{"--components=" + comps}, func(string) string { return "" }, io.Discard)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("--components=%s: %v, want %q", comps, err, want)
		}
	}
}

// The central apigw of the sidecar layout tells Envoy to stream a second
// access log to the breakers component on its loopback (plaintext there);
// without --envoy-breaker-accesslog-address there is none.
func TestEnvoyBreakerAccessLogOption(t *testing.T) {
	parse := func(args ...string) *Config {
		t.Helper()
		cfg, err := ParseConfig(args, func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if o := translateOptions(parse()); o.BreakerAccessLogAddress != "" || o.BreakerAccessLogTLS {
		t.Errorf("default options %+v: want no breaker access log", o)
	}
	o := translateOptions(parse("--components=admin,xds,accesslog", "--envoy-breaker-accesslog-address=127.0.0.1:18008"))
	if o.BreakerAccessLogAddress != "127.0.0.1:18008" || o.BreakerAccessLogTLS {
		t.Errorf("options %+v: want the loopback breaker access log without mTLS", o)
	}
	if o := translateOptions(parse("--envoy-extauth-address=10.0.0.5:18001", "--envoy-breaker-accesslog-address=10.0.0.5:18008")); !o.BreakerAccessLogTLS {
		t.Error("a breaker sink beyond loopback is reached without mTLS")
	}
	for _, args := range [][]string{
		{"--envoy-breaker-accesslog-address=nope"},
		// The breakers would feed an ext_authz Envoy does not call.
		{"--envoy-extauth-address=apigw:18001", "--envoy-breaker-accesslog-address=127.0.0.1:18008"},
	} {
		if _, err := ParseConfig(args, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "--envoy-breaker-accesslog-address") {
			t.Errorf("%v: accepted (%v)", args, err)
		}
	}
}

// checkRequest is ext_authz's request for a call of an API's route.
func checkRequest(api, path string) *authv3.CheckRequest {
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Time: timestamppb.Now(), Http: &authv3.AttributeContext_HttpRequest{
			Id: "1", Method: "GET", Path: path, Host: "api.example.com", Scheme: "http", Protocol: "HTTP/1.1",
			Headers: map[string]string{":authority": "api.example.com", ":method": "GET", ":path": path, ":scheme": "http", "x-request-id": "req-1"},
		}},
		ContextExtensions: map[string]string{dataplane.ExtAuthzCtxInstance: model.DefaultInstance, dataplane.ExtAuthzCtxGroup: "g1",
			dataplane.ExtAuthzCtxAPI: api, dataplane.ExtAuthzCtxEnv: model.ReleaseEnvID},
	}}
}

// backendEntry is the access-log entry of a call that reached the backend.
func backendEntry(api string, status int, end time.Time) *datav3.HTTPAccessLogEntry {
	return &datav3.HTTPAccessLogEntry{
		CommonProperties: &datav3.AccessLogCommon{
			StartTime:                 timestamppb.New(end.Add(-30 * time.Millisecond)),
			Duration:                  durationpb.New(30 * time.Millisecond),
			TimeToFirstUpstreamTxByte: durationpb.New(2 * time.Millisecond),
			TimeToLastUpstreamRxByte:  durationpb.New(29 * time.Millisecond),
			AccessLogType:             datav3.AccessLogType_DownstreamEnd,
			CustomTags: map[string]string{dataplane.AccessLogTagInstance: model.DefaultInstance, dataplane.AccessLogTagGroup: "g1",
				dataplane.AccessLogTagAPI: api, dataplane.AccessLogTagEnv: model.ReleaseEnvID},
		},
		Response: &datav3.HTTPResponseProperties{ResponseCode: wrapperspb.UInt32(uint32(status))},
	}
}
