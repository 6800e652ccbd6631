package extauth_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/breaker"
	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const breakerMock = `{"breaker_condition":{"breaker_type":"condition","unhealthy_condition":"[\"$context.statusCode\",\"in\",\"500,502\"]",` +
	`"unhealthy_threshold":2,"time_window":10,"open_breaker_time":30},` +
	`"downgrade_default":{"type":"mock","mock_info":{"status_code":200,"result_content":"{\"degraded\":true}",` +
	`"headers":[{"key":"Content-Type","value":"application/json"},{"key":"X-Degraded","value":"yes"}]}}}`

const breakerNone = `{"breaker_condition":{"breaker_type":"timeout","breaker_mode":"percentage","min_call_threshold":2,` +
	`"unhealthy_percentage":50,"time_window":10,"open_breaker_time":30}}`

// breakerWorld is the fixture with two APIs with a breaker each: api-brk
// (mock downgrade) and api-brk503 (none).
func breakerWorld(t *testing.T) *model.Instance {
	f := newFixture("http://127.0.0.1:1", nil)
	f.api(&apigwv1.Api{Id: "api-brk", Name: "fragile", ReqUri: "/fragile", AuthType: model.AuthNone})
	f.api(&apigwv1.Api{Id: "api-brk503", Name: "fragile_503", ReqUri: "/fragile503", AuthType: model.AuthNone})
	f.add(&apigwv1.Plugin{Id: "brk-mock", PluginName: "brk_mock", PluginType: model.PluginBreaker, PluginContent: breakerMock},
		&apigwv1.Plugin{Id: "brk-none", PluginName: "brk_none", PluginType: model.PluginBreaker, PluginContent: breakerNone},
		&apigwv1.PluginBinding{Id: "pbm", ApiId: "api-brk", EnvId: model.ReleaseEnvID, PluginId: "brk-mock"},
		&apigwv1.PluginBinding{Id: "pbn", ApiId: "api-brk503", EnvId: model.ReleaseEnvID, PluginId: "brk-none"})
	return f.instance(t)
}

// breakerHarness is ext_authz with breakers fed by a registry sharing the
// harness's clock.
func breakerHarness(t *testing.T) (*harness, *breaker.Registry) {
	in := breakerWorld(t)
	c := &clock{t: testNow}
	feed := live.NewFeed()
	feed.Publish(live.NewSnapshot(1, map[string]*model.Instance{in.Name: in}, nil))
	reg := breaker.New(feed, nil, breaker.WithClock(c.Now))
	h := newHarness(t, in, extauth.WithBreakers(reg))
	h.clock = c
	return h, reg
}

func backendResult(api string, status int) *accesslog.Record {
	return &accesslog.Record{Instance: model.DefaultInstance, API: api, Env: model.ReleaseEnvID, Status: status,
		HasUpstream: true, Upstream: 20 * time.Millisecond, Duration: 21 * time.Millisecond}
}

// An open breaker with a mock downgrade: ext_authz answers with the mock
// (status, body, headers) instead of calling the backend, and names the
// breaker in the metadata the access log records; half-open after the
// open time, requests pass again.
func TestBreakerOpenAnswersMock(t *testing.T) {
	h, reg := breakerHarness(t)
	req := envoyRequest{api: "api-brk", path: "/fragile"}
	allowedResp(t, h.check(req.checkRequest()))

	reg.Add(backendResult("api-brk", 502))
	reg.Add(backendResult("api-brk", 200))
	allowedResp(t, h.check(req.checkRequest()))
	reg.Add(backendResult("api-brk", 500)) // the second unhealthy call: opens

	resp := h.check(req.checkRequest())
	d := resp.GetDeniedResponse()
	if d == nil {
		t.Fatalf("an open breaker let the request through: %v", resp)
	}
	if d.GetStatus().GetCode() != 200 || d.GetBody() != `{"degraded":true}` {
		t.Fatalf("mock answer %d %q, want 200 {\"degraded\":true}", d.GetStatus().GetCode(), d.GetBody())
	}
	hdrs := map[string]string{}
	for _, hv := range d.GetHeaders() {
		hdrs[hv.GetHeader().GetKey()] = hv.GetHeader().GetValue()
	}
	if hdrs["X-Degraded"] != "yes" || hdrs["Content-Type"] != "application/json" {
		t.Fatalf("mock headers %v", hdrs)
	}
	if m := metaOf(resp); m[dataplane.ExtAuthzMetaErrorCode] != "APIG.0202" {
		t.Fatalf("metadata %v: want the breaker's code", m)
	}
	// The other API is not affected.
	allowedResp(t, h.check(envoyRequest{api: "api-brk503", path: "/fragile503"}.checkRequest()))

	h.clock.Add(30 * time.Second)
	allowedResp(t, h.check(req.checkRequest()))
	if v := h.counter("apigw_extauth_checks_total", map[string]string{"decision": "deny", "reason": "breaker_open"}); v != 1 {
		t.Errorf("breaker_open checks = %v, want 1", v)
	}
}

// An open breaker without a downgrade: 503 APIG.0202 rendered with the
// group's gateway response.
func TestBreakerOpenWithoutDowngrade(t *testing.T) {
	h, reg := breakerHarness(t)
	timeout := &accesslog.Record{Instance: model.DefaultInstance, API: "api-brk503", Env: model.ReleaseEnvID, Status: 504,
		Flags: []string{"UT"}, ErrorCode: "APIG.0203", Duration: 5 * time.Second}
	reg.Add(timeout)
	reg.Add(backendResult("api-brk503", 200))
	req := envoyRequest{api: "api-brk503", path: "/fragile503"}
	allowedResp(t, h.check(req.checkRequest())) // percentage: decided when the window ends
	h.clock.Add(10 * time.Second)
	status, body, hdrs := denied(t, h.check(req.checkRequest()))
	if status != 503 || body.Code != "APIG.0202" || hdrs["content-type"] != "application/json" {
		t.Fatalf("got %d %+v %v, want 503 APIG.0202 as JSON", status, body, hdrs)
	}
}

// Without breakers (ext_authz running where the access-log service does
// not), a breaker plug-in never opens.
func TestBreakerWithoutRegistry(t *testing.T) {
	h := newHarness(t, breakerWorld(t))
	allowedResp(t, h.check(envoyRequest{api: "api-brk", path: "/fragile"}.checkRequest()))
}

// accessLogFlush is the buffer_flush_interval of the access logger apigw
// configures on every HCM (xds/translate/accesslog.go).
const accessLogFlush = time.Second

// The delay from the backend call that opens the breaker to the first
// downgraded request is Envoy's flush interval plus one decision: the
// entries arrive on the access-log stream when Envoy flushes its buffer,
// the breaker opens as they are read, and the next Check answers with the
// downgrade (no configuration push in between). The clock is injected;
// the stream is a real gRPC stream on loopback.
func TestBreakerOpenDelay(t *testing.T) {
	h, reg := breakerHarness(t)
	als, err := accesslog.New(nil, slog.New(slog.DiscardHandler), nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	als.Register(gs)
	client := alsv3.NewAccessLogServiceClient(testutil.ServeAndDialGRPC(t, gs))

	req := envoyRequest{api: "api-brk", path: "/fragile"}
	// Two failing backend calls end at t0; Envoy buffers their entries.
	opened := h.clock.Now()
	buffered := []*datav3.HTTPAccessLogEntry{alsEntry("api-brk", 502, opened), alsEntry("api-brk", 500, opened)}
	// Until the flush, ext_authz knows nothing of them.
	h.clock.Add(accessLogFlush - time.Millisecond)
	allowedResp(t, h.check(req.checkRequest()))
	// The flush: the batch is sent on the stream and read.
	h.clock.Add(time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := client.StreamAccessLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := &alsv3.StreamAccessLogsMessage{
		Identifier: &alsv3.StreamAccessLogsMessage_Identifier{Node: &corev3.Node{Id: "envoy-1", Cluster: model.DefaultInstance}, LogName: dataplane.AccessLogName},
		LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{LogEntry: buffered}},
	}
	if err := stream.Send(msg); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.CloseAndRecv(); err != nil { // the server has read every entry
		t.Fatal(err)
	}
	// One decision later: downgraded.
	resp := h.check(req.checkRequest())
	if resp.GetDeniedResponse().GetStatus().GetCode() != 200 || resp.GetDeniedResponse().GetBody() != `{"degraded":true}` {
		t.Fatalf("the first check after the flush was not downgraded: %v", resp)
	}
	if delay := h.clock.Now().Sub(opened); delay != accessLogFlush {
		t.Fatalf("open delay %v, want the flush interval %v", delay, accessLogFlush)
	}
	if s, _ := reg.State(model.DefaultInstance, "api-brk", model.ReleaseEnvID); s != breaker.Open {
		t.Fatalf("state %v, want open", s)
	}
}

// alsEntry is the entry Envoy's http_grpc logger writes for a request of
// an apigw route that reached its backend.
func alsEntry(api string, status int, start time.Time) *datav3.HTTPAccessLogEntry {
	return &datav3.HTTPAccessLogEntry{
		CommonProperties: &datav3.AccessLogCommon{
			StartTime:                 timestamppb.New(start.Add(-30 * time.Millisecond)),
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
