package explain_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/explain"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/model/live"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/ratelimit/counter"
	"github.com/apigw/apigw/xds/translate"
)

type fixture struct {
	adm   *admintest.Server
	svc   *explain.Service
	cnt   *counter.Memory
	host  string
	appID string
	ctx   context.Context
}

// setup publishes GET /pets/{id} (APP authentication, backend
// http://127.0.0.1:9/v1/pets/{id} with a constant header, a throttle of
// 3 calls per minute) and authorizes the app "mobile" for it.
func setup(t *testing.T) *fixture {
	t.Helper()
	adm := admintest.Start(t)
	ctx := admintest.Context(t)
	c := adm.Client
	create := func(m proto.Message) *apigwv1.Resource {
		t.Helper()
		resp, err := c.Create(ctx, &adminv1.CreateRequest{Resource: model.Wrap(m)})
		if err != nil {
			t.Fatalf("create %T: %v", m, err)
		}
		return resp.Resource
	}
	g := create(&apigwv1.ApiGroup{Name: "shop"}).GetGroup()
	create(&apigwv1.Api{Name: "get_pet", GroupId: "shop", ReqMethod: "GET", ReqUri: "/pets/{id}", AuthType: "APP", ReqProtocol: "BOTH",
		ReqParams:     []*apigwv1.ReqParam{{Name: "id", Location: "PATH", Type: "STRING", Required: 1}},
		BackendParams: []*apigwv1.BackendParam{{Name: "X-Tenant", Location: "HEADER", Origin: "CONSTANT", Value: "acme"}},
		BackendApi:    &apigwv1.BackendApi{ReqProtocol: "HTTP", ReqMethod: "GET", UrlDomain: "127.0.0.1:9", ReqUri: "/v1/pets/{id}", Timeout: 3000}})
	app := create(&apigwv1.App{Name: "mobile"}).GetApp()
	create(&apigwv1.Throttle{Name: "slow", ApiCallLimits: 3, TimeInterval: 1, TimeUnit: "MINUTE"})
	for _, kind := range []string{"app", "throttle"} {
		id := map[string]string{"app": "mobile", "throttle": "slow"}[kind]
		if _, err := c.Bind(ctx, &adminv1.BindRequest{PolicyKind: kind, PolicyId: id, EnvId: "RELEASE", ApiIds: []string{"get_pet"}}); err != nil {
			t.Fatalf("bind %s: %v", kind, err)
		}
	}
	if _, err := c.Publish(ctx, &adminv1.PublishRequest{ApiId: "get_pet", Group: "shop"}); err != nil {
		t.Fatal(err)
	}
	waitServed(t, adm.Feed)
	cnt := counter.NewMemory()
	svc, err := explain.New(adm.Feed, explain.Options{Counter: cnt})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{adm: adm, svc: svc, cnt: cnt, host: g.GetSlDomain(), appID: app.GetId(), ctx: ctx}
}

// waitServed waits until the snapshot serves a publication.
func waitServed(t *testing.T, feed *live.Feed) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := feed.Current(); s != nil && len(s.Instance(model.DefaultInstance).ServedAll()) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the publication was not served within 10s")
}

func header(hs []*adminv1.Header, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.GetName(), name) {
			return h.GetValue()
		}
	}
	return ""
}

// A request signed with the authorized app's credentials is routed to the
// API, allowed by ext_authz, counted (not consumed) against the throttle,
// and reaches the backend with the rewritten path, the mapped header and
// the backend's host; nothing is sent.
func TestExplainSignedRequest(t *testing.T) {
	f := setup(t)
	req := &adminv1.ExplainRequest{Request: &adminv1.HttpRequest{Method: "GET", Path: "/pets/7?color=red", Host: f.host},
		Credentials: &adminv1.Credentials{AppId: "mobile"}}
	var out *adminv1.ExplainResponse
	for range 5 { // explaining never uses up the throttle
		var err error
		if out, err = f.svc.Explain(f.ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if !out.Route.Matched || out.Route.ApiName != "get_pet" || out.Route.Backend != "default" {
		t.Fatalf("route %v\ntrace %s", out.Route, strings.Join(out.Trace, "\n"))
	}
	if !out.Auth.Checked || !out.Auth.Allowed {
		t.Fatalf("auth %v", out.Auth)
	}
	if header(out.Request.Headers, "Authorization") == "" || header(out.Request.Headers, "X-Sdk-Date") == "" {
		t.Errorf("the request was not signed: %v", out.Request.Headers)
	}
	b := out.Backend
	if b == nil {
		t.Fatalf("no backend request; response %v\ntrace %s", out.Response, strings.Join(out.Trace, "\n"))
	}
	if b.Url != "http://127.0.0.1:9/v1/pets/7?color=red" || b.Method != "GET" || b.Endpoint != "127.0.0.1:9" {
		t.Errorf("backend %s %s endpoint %s", b.Method, b.Url, b.Endpoint)
	}
	if header(b.Headers, "X-Tenant") != "acme" {
		t.Errorf("backend headers %v lack the constant parameter", b.Headers)
	}
	var api *adminv1.LimitResult
	for _, l := range out.Limits {
		if strings.Contains(l.Descriptor_, "api") && l.Limit == 3 {
			api = l
		}
	}
	if api == nil || api.Code != "OK" || api.Remaining != 2 {
		t.Fatalf("limits %v: want the API limit of 3 with 2 remaining after this call (and nothing counted by explain)", out.Limits)
	}
}

// Without a signature the same request is denied 401 APIG.0303 by
// ext_authz, and the client gets the gateway response.
func TestExplainUnsignedRequestIsDenied(t *testing.T) {
	f := setup(t)
	out, err := f.svc.Explain(f.ctx, &adminv1.ExplainRequest{Request: &adminv1.HttpRequest{Path: "/pets/7", Host: f.host}})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Route.Matched || !out.Auth.Checked || out.Auth.Allowed || out.Auth.Status != 401 || out.Auth.ErrorCode != "APIG.0303" {
		t.Fatalf("route %v auth %v", out.Route, out.Auth)
	}
	if out.Backend != nil || out.Response.GetStatus() != 401 || !strings.Contains(string(out.Response.GetBody()), "APIG.0303") {
		t.Fatalf("backend %v response %v", out.Backend, out.Response)
	}
}

// A path no API serves, and a host of no group, say why nothing matched.
func TestExplainNoRoute(t *testing.T) {
	f := setup(t)
	out, err := f.svc.Explain(f.ctx, &adminv1.ExplainRequest{Request: &adminv1.HttpRequest{Path: "/owners/1", Host: f.host}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Route.Matched || out.Route.Reason == "" || out.Response.GetStatus() != 404 {
		t.Fatalf("route %v response %v", out.Route, out.Response)
	}
	if _, err := f.svc.Explain(f.ctx, &adminv1.ExplainRequest{Request: &adminv1.HttpRequest{Path: "/pets/1"}}); err == nil || !strings.Contains(err.Error(), "request.host") {
		t.Fatalf("no host: %v", err)
	}
}

// Send signs server-side and sends to the gateway URL, with the Host of
// the request.
func TestSendSigns(t *testing.T) {
	f := setup(t)
	var got *http.Request
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("X-Apig-Latency", "1")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("short and stout"))
	}))
	defer gw.Close()
	out, err := f.svc.Send(f.ctx, &adminv1.SendRequest{GatewayUrl: gw.URL, Request: &adminv1.HttpRequest{Method: "POST", Path: "/pets/7", Host: f.host, Body: []byte(`{"a":1}`)},
		Credentials: &adminv1.Credentials{AppId: f.appID}})
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Host != f.host || got.URL.Path != "/pets/7" || !strings.HasPrefix(got.Header.Get("Authorization"), "SDK-HMAC-SHA256") {
		t.Fatalf("gateway got %v", got)
	}
	if out.Response.Status != http.StatusTeapot || string(out.Response.Body) != "short and stout" || header(out.Response.Headers, "X-Apig-Latency") != "1" {
		t.Fatalf("response %v", out.Response)
	}
	if _, err := f.svc.Send(f.ctx, &adminv1.SendRequest{GatewayUrl: "ftp://x", Request: &adminv1.HttpRequest{Host: f.host}}); err == nil {
		t.Fatal("an ftp gateway URL was accepted")
	}
}

// The policy backend chosen by ext_authz from a request parameter, and a
// parameter check that fails, are what Explain reports.
func TestExplainPolicyBackendAndParameterCheck(t *testing.T) {
	adm := admintest.Start(t)
	ctx := admintest.Context(t)
	c := adm.Client
	for _, m := range []proto.Message{
		&apigwv1.ApiGroup{Name: "shop"},
		&apigwv1.Api{Name: "list_items", GroupId: "shop", ReqMethod: "GET", ReqUri: "/items", AuthType: "NONE", ReqProtocol: "BOTH",
			ReqParams: []*apigwv1.ReqParam{
				{Name: "tier", Location: "QUERY", Type: "STRING", Required: 2},
				{Name: "limit", Location: "QUERY", Type: "NUMBER", Required: 1},
			},
			BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", ReqMethod: "GET", UrlDomain: "127.0.0.1:9", ReqUri: "/items", Timeout: 3000},
			PolicyHttps: []*apigwv1.PolicyHttp{{Name: "gold", EffectMode: "ANY", ReqProtocol: "HTTP", ReqMethod: "GET", UrlDomain: "127.0.0.2:9", ReqUri: "/gold/items", Timeout: 3000,
				Conditions: []*apigwv1.Condition{{ConditionOrigin: "param", ReqParamName: "tier", ConditionType: "exact", ConditionValue: "gold"}}}}},
	} {
		if _, err := c.Create(ctx, &adminv1.CreateRequest{Resource: model.Wrap(m)}); err != nil {
			t.Fatalf("create %T: %v", m, err)
		}
	}
	if _, err := c.Publish(ctx, &adminv1.PublishRequest{ApiId: "list_items", Group: "shop"}); err != nil {
		t.Fatal(err)
	}
	waitServed(t, adm.Feed)
	g, err := c.Get(ctx, &adminv1.GetRequest{Kind: "group", Id: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := explain.New(adm.Feed, explain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	host := g.GetResource().GetGroup().GetSlDomain()
	explainPath := func(path string) *adminv1.ExplainResponse {
		t.Helper()
		out, err := svc.Explain(ctx, &adminv1.ExplainRequest{Request: &adminv1.HttpRequest{Path: path, Host: host}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	gold := explainPath("/items?tier=gold&limit=5")
	if gold.Route.Backend != "gold" || gold.Backend.GetEndpoint() != "127.0.0.2:9" || !strings.HasPrefix(gold.Backend.GetUrl(), "http://127.0.0.2:9/gold/items?") {
		t.Fatalf("gold: route %v backend %v\n%s", gold.Route, gold.Backend, strings.Join(gold.Trace, "\n"))
	}
	plain := explainPath("/items?limit=5")
	if plain.Route.Backend != "default" || plain.Backend.GetEndpoint() != "127.0.0.1:9" {
		t.Fatalf("default: route %v backend %v", plain.Route, plain.Backend)
	}
	missing := explainPath("/items?tier=gold")
	if missing.Auth.Allowed || missing.Auth.Status != 400 || !strings.HasPrefix(missing.Auth.ErrorCode, "APIG.") || !strings.Contains(missing.Auth.ErrorMsg, "limit") {
		t.Fatalf("missing required parameter: auth %v", missing.Auth)
	}
}

// Explaining writes no access log: neither a line of the instance's
// access log (a file here) nor an entry to the access-log service, whose
// per-API metrics count real calls only.
func TestExplainWritesNoAccessLog(t *testing.T) {
	f := setup(t)
	lines := filepath.Join(t.TempDir(), "access.log")
	if _, err := f.adm.Client.Update(f.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(&apigwv1.Instance{Name: model.DefaultInstance,
		Config: &apigwv1.InstanceConfig{AccessLog: &apigwv1.AccessLogConfig{Enabled: true, Path: lines}}})}); err != nil {
		t.Fatal(err)
	}
	als, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer als.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := als.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	svc, err := explain.New(f.adm.Feed, explain.Options{Translate: translate.Options{AccessLogAddress: als.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) { // until the instance's access log is served
		if in := f.adm.Feed.Current().Instance(model.DefaultInstance); in.Config.GetAccessLog().GetEnabled() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, err := svc.Explain(f.ctx, &adminv1.ExplainRequest{Request: &adminv1.HttpRequest{Method: "GET", Path: "/pets/7", Host: f.host},
		Credentials: &adminv1.Credentials{AppId: "mobile"}})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Route.Matched || out.Backend == nil {
		t.Fatalf("route %v backend %v\ntrace %s", out.Route, out.Backend, strings.Join(out.Trace, "\n"))
	}
	if _, err := os.Stat(lines); !os.IsNotExist(err) {
		b, _ := os.ReadFile(lines)
		t.Errorf("explain wrote the instance's access log: %v %s", err, b)
	}
	select {
	case <-accepted:
		t.Error("explain connected to the access-log service")
	case <-time.After(500 * time.Millisecond):
	}
}
