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
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/breaker"
	"github.com/apigw/apigw/breaker/alsink"
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

// breakerHTTP downgrades to another HTTP backend, called with GET.
const breakerHTTP = `{"breaker_condition":{"breaker_type":"timeout","unhealthy_threshold":1,"time_window":10,"open_breaker_time":30},` +
	`"downgrade_default":{"type":"http","http_info":{"isVpc":false,"address":"fallback.internal:8080","scheme":"HTTP","method":"GET","path":"/static/fallback","timeout":2000}}}`

// breakerRules has two downgrade rules: slow_path (requests under
// /rules/slow: a timeout breaker of its own with its own mock) and gold
// (X-Tier: gold, a rule-local parameter: the plug-in's condition, no
// downgrade: 503); other requests count for the default breaker.
const breakerRules = `{"breaker_condition":{"breaker_type":"condition","unhealthy_condition":"[\"$context.statusCode\",\"in\",\"500,502\"]",` +
	`"unhealthy_threshold":2,"time_window":10,"open_breaker_time":30},` +
	`"downgrade_parameters":[{"name":"reqPath","type":"path","value":"path"},{"name":"method","type":"method","value":"method"}],` +
	`"downgrade_rules":[` +
	`{"rule_name":"slow_path","parameters":["reqPath","method"],"match_regex":"[\"AND\",[\"reqPath\",\"~~\",\"^/rules/slow\"],[\"method\",\"==\",\"GET\"]]",` +
	`"breaker_condition":{"breaker_type":"timeout","unhealthy_threshold":1,"time_window":10,"open_breaker_time":30},` +
	`"downgrade_backend":{"type":"mock","mock_info":{"status_code":202,"result_content":"slow degraded"}}},` +
	`{"rule_name":"gold","parameters":[{"name":"tier","type":"header","value":"X-Tier"}],"match_regex":"[\"tier\",\"==\",\"gold\"]"}]}`

// breakerWorld is the fixture with two APIs with a breaker each: api-brk
// (mock downgrade) and api-brk503 (none).
func breakerWorld(t *testing.T) *model.Instance {
	f := newFixture("http://127.0.0.1:1", nil)
	f.api(&apigwv1.Api{Id: "api-brk", Name: "fragile", ReqUri: "/fragile", AuthType: model.AuthNone})
	f.api(&apigwv1.Api{Id: "api-brk503", Name: "fragile_503", ReqUri: "/fragile503", AuthType: model.AuthNone})
	f.api(&apigwv1.Api{Id: "api-brk-http", Name: "fragile_http", ReqUri: "/fragilehttp", ReqMethod: "POST", AuthType: model.AuthNone})
	f.add(&apigwv1.Plugin{Id: "brk-http", PluginName: "brk_http", PluginType: model.PluginBreaker, PluginContent: breakerHTTP},
		&apigwv1.PluginBinding{Id: "pbh", ApiId: "api-brk-http", EnvId: model.ReleaseEnvID, PluginId: "brk-http"})
	f.api(&apigwv1.Api{Id: "api-rules", Name: "ruled", ReqUri: "/rules", MatchMode: model.MatchPrefix, AuthType: model.AuthNone})
	f.add(&apigwv1.Plugin{Id: "brk-rules", PluginName: "brk_rules", PluginType: model.PluginBreaker, PluginContent: breakerRules},
		&apigwv1.PluginBinding{Id: "pbr", ApiId: "api-rules", EnvId: model.ReleaseEnvID, PluginId: "brk-rules"})
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

func backendResult(api string, status int) *breaker.Call {
	return &breaker.Call{Instance: model.DefaultInstance, API: api, Env: model.ReleaseEnvID, Status: status,
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
	timeout := &breaker.Call{Instance: model.DefaultInstance, API: "api-brk503", Env: model.ReleaseEnvID, Status: 504,
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

// An open breaker with an http downgrade: ext_authz lets the request
// through to the downgrade backend, a policy backend without conditions
// selected by the header its route matches, with its path and method, and
// marks it so that its result does not feed the breaker.
func TestBreakerOpenHTTPDowngrade(t *testing.T) {
	h, reg := breakerHarness(t)
	req := envoyRequest{method: "POST", api: "api-brk-http", path: "/fragilehttp"}
	a := allowedResp(t, h.check(req.checkRequest()))
	if a.headers[dataplane.ExtAuthzPolicyHeader] != "" || a.meta[dataplane.ExtAuthzMetaBackendPath] == "/static/fallback" {
		t.Fatalf("a closed breaker sent the request to the downgrade: %+v", a)
	}
	reg.Add(&breaker.Call{Instance: model.DefaultInstance, API: "api-brk-http", Env: model.ReleaseEnvID, Status: 504, Flags: []string{"UT"}})
	resp := h.check(req.checkRequest())
	a = allowedResp(t, resp)
	if a.headers[dataplane.ExtAuthzPolicyHeader] != "breaker:default" || a.meta[dataplane.ExtAuthzMetaBackendPath] != "/static/fallback" ||
		a.headers[":method"] != "GET" || a.headers[dataplane.ExtAuthzMethodHeader] == "" {
		t.Fatalf("the open breaker did not select its http downgrade: %+v", a)
	}
	if v := resp.GetDynamicMetadata().GetFields()[dataplane.ExtAuthzMetaBreakerDowngraded]; !v.GetBoolValue() {
		t.Fatalf("the downgraded request is not marked: %v", resp.GetDynamicMetadata())
	}
	// The downgrade backend's answers do not feed the breaker: after the
	// open time it is half-open, and a result of the real backend decides.
	h.clock.Add(30 * time.Second)
	reg.Add(&breaker.Call{Instance: model.DefaultInstance, API: "api-brk-http", Env: model.ReleaseEnvID, Status: 504, Flags: []string{"UT"}, Downgraded: true})
	if s, _ := reg.State(model.DefaultInstance, "api-brk-http", model.ReleaseEnvID); s != breaker.HalfOpen {
		t.Fatalf("state %v after a downgraded call's result, want half-open", s)
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
	als, err := accesslog.New(nil, slog.New(slog.DiscardHandler), nil, alsink.Sink{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	als.Register(gs)
	client := alsv3.NewAccessLogServiceClient(testutil.ServeAndDialGRPC(t, gs))

	req := envoyRequest{api: "api-brk", path: "/fragile"}
	// Two failing backend calls end at t0; Envoy buffers their entries.
	opened := h.clock.Now()
	buffered := []*datav3.HTTPAccessLogEntry{alsEntry("api-brk", 502, opened, nil), alsEntry("api-brk", 500, opened, nil)}
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

// Downgrade rules: ext_authz evaluates them on each request, names the
// matched rule in its metadata, the access log brings the result back
// with it, and only that rule's breaker counts it and opens.
func TestBreakerDowngradeRules(t *testing.T) {
	h, reg := breakerHarness(t)
	als, err := accesslog.New(nil, slog.New(slog.DiscardHandler), nil, alsink.Sink{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	als.Register(gs)
	client := alsv3.NewAccessLogServiceClient(testutil.ServeAndDialGRPC(t, gs))
	send := func(entries ...*datav3.HTTPAccessLogEntry) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stream, err := client.StreamAccessLogs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&alsv3.StreamAccessLogsMessage{
			Identifier: &alsv3.StreamAccessLogsMessage_Identifier{Node: &corev3.Node{Id: "envoy-1", Cluster: model.DefaultInstance}, LogName: dataplane.AccessLogName},
			LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{LogEntry: entries}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.CloseAndRecv(); err != nil {
			t.Fatal(err)
		}
	}
	slow := envoyRequest{api: "api-rules", path: "/rules/slow/1"}
	other := envoyRequest{api: "api-rules", path: "/rules/fast"}
	gold := envoyRequest{api: "api-rules", path: "/rules/fast", headers: map[string]string{"X-Tier": "gold"}}

	a := allowedResp(t, h.check(slow.checkRequest()))
	if a.meta[dataplane.ExtAuthzMetaBreakerRule] != "slow_path" {
		t.Fatalf("metadata %v: want breaker_rule slow_path", a.meta)
	}
	if a := allowedResp(t, h.check(other.checkRequest())); a.meta[dataplane.ExtAuthzMetaBreakerRule] != "" {
		t.Fatalf("a request matching no rule names one: %v", a.meta)
	}
	if a := allowedResp(t, h.check(gold.checkRequest())); a.meta[dataplane.ExtAuthzMetaBreakerRule] != "gold" {
		t.Fatalf("metadata %v: want breaker_rule gold", a.meta)
	}

	// One timeout of a slow_path call (the rule's own timeout breaker,
	// threshold 1), and two 502s of calls matching no rule (the default
	// breaker's condition, threshold 2) — but one of them reported
	// under gold: neither the default breaker nor gold's opens.
	timeout := alsEntry("api-rules", 504, h.clock.Now(), map[string]any{dataplane.ExtAuthzMetaBreakerRule: "slow_path"})
	timeout.CommonProperties.ResponseFlags = &datav3.ResponseFlags{UpstreamRequestTimeout: true}
	send(timeout, alsEntry("api-rules", 502, h.clock.Now(), nil), alsEntry("api-rules", 502, h.clock.Now(), map[string]any{dataplane.ExtAuthzMetaBreakerRule: "gold"}))

	resp := h.check(slow.checkRequest())
	if d := resp.GetDeniedResponse(); d.GetStatus().GetCode() != 202 || d.GetBody() != "slow degraded" {
		t.Fatalf("slow_path's breaker did not answer with the rule's mock: %v", resp)
	}
	allowedResp(t, h.check(other.checkRequest()))
	allowedResp(t, h.check(gold.checkRequest()))

	// A second 502 for gold opens gold's breaker: the plug-in's condition,
	// no downgrade → 503.
	send(alsEntry("api-rules", 500, h.clock.Now(), map[string]any{dataplane.ExtAuthzMetaBreakerRule: "gold"}))
	if status, body, _ := denied(t, h.check(gold.checkRequest())); status != 503 || body.Code != "APIG.0202" {
		t.Fatalf("gold: got %d %+v, want 503 APIG.0202", status, body)
	}
	allowedResp(t, h.check(other.checkRequest()))
	if s, _ := reg.State(model.DefaultInstance, "api-rules", model.ReleaseEnvID); s != breaker.Closed {
		t.Fatalf("the default breaker is %v, want closed", s)
	}
}

// alsEntry is the entry Envoy's http_grpc logger writes for a request of
// an apigw route that reached its backend, with ext_authz's metadata.
func alsEntry(api string, status int, start time.Time, authz map[string]any) *datav3.HTTPAccessLogEntry {
	var md *corev3.Metadata
	if authz != nil {
		st, err := structpb.NewStruct(authz)
		if err != nil {
			panic(err)
		}
		md = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{dataplane.ExtAuthzMetadataNamespace: st}}
	}
	return &datav3.HTTPAccessLogEntry{
		CommonProperties: &datav3.AccessLogCommon{
			StartTime:                 timestamppb.New(start.Add(-30 * time.Millisecond)),
			Duration:                  durationpb.New(30 * time.Millisecond),
			TimeToFirstUpstreamTxByte: durationpb.New(2 * time.Millisecond),
			TimeToLastUpstreamRxByte:  durationpb.New(29 * time.Millisecond),
			AccessLogType:             datav3.AccessLogType_DownstreamEnd,
			Metadata:                  md,
			CustomTags: map[string]string{dataplane.AccessLogTagInstance: model.DefaultInstance, dataplane.AccessLogTagGroup: "g1",
				dataplane.AccessLogTagAPI: api, dataplane.AccessLogTagEnv: model.ReleaseEnvID},
		},
		Response: &datav3.HTTPResponseProperties{ResponseCode: wrapperspb.UInt32(uint32(status))},
	}
}
