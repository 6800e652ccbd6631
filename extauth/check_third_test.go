package extauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// authService is a third-party authentication service on loopback: a
// request with X-Token good (header or token query parameter) is
// accepted with an X-User answer header; anything else gets 403 with a
// JSON body. /slow answers after a second.
type authService struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newAuthService(t *testing.T) *authService {
	a := &authService{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen = append(a.seen, r.Clone(r.Context()))
		a.mu.Unlock()
		if r.URL.Path == "/slow" {
			time.Sleep(time.Second)
		}
		if r.Header.Get("X-Token") == "good" || r.URL.Query().Get("token") == "good" {
			w.Header().Set("X-User", "alice")
			w.Header().Set("X-Secret-Internal", "s")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"reason":"bad token"}`))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *authService) calls() []*http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seen)
}

func thirdSetup(t *testing.T) (*harness, *authService) {
	t.Helper()
	a := newAuthService(t)
	host := a.srv.Listener.Addr().String()
	content := func(v map[string]any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	req := func(path string, timeout int) map[string]any {
		return map[string]any{"method": "GET", "protocol": "HTTP", "url_domain": host, "path": path, "timeout": timeout}
	}
	f := newFixture("", nil)
	f.api(&apigwv1.Api{Id: "api-third", Name: "third_hdr", ReqUri: "/third/{id}"}, model.ReleaseEnvID, envTest)
	f.api(&apigwv1.Api{Id: "api-third-all", Name: "third_all", ReqUri: "/third-all"})
	f.api(&apigwv1.Api{Id: "api-third-q", Name: "third_query", ReqUri: "/third-q"})
	f.api(&apigwv1.Api{Id: "api-third-slow", Name: "third_slow", ReqUri: "/third-slow"})
	f.api(&apigwv1.Api{Id: "api-third-relaxed", Name: "third_relaxed", ReqUri: "/third-relaxed"})
	f.api(&apigwv1.Api{Id: "api-third-down", Name: "third_down", ReqUri: "/third-down"})
	f.add(
		&apigwv1.Plugin{Id: "pt-h", PluginName: "third_hdr", PluginType: model.PluginThirdAuth, PluginContent: content(map[string]any{
			"auth_request": req("/auth", 2000), "identities": map[string]any{"headers": []any{map[string]any{"name": "X-Token"}}, "queries": nil},
			"carry_path_enabled": true, "carry_resp_headers": []string{"X-User"}, "simple_auth_mode_enabled": true,
			"return_resp_body_enabled": true, "custom_forbid_limit": 3, "match_auth": nil, "rules": nil, "rule_type": "allow"})},
		&apigwv1.Plugin{Id: "pt-all", PluginName: "third_all", PluginType: model.PluginThirdAuth, PluginContent: content(map[string]any{
			"auth_request": req("/all", 2000)})},
		&apigwv1.Plugin{Id: "pt-q", PluginName: "third_query", PluginType: model.PluginThirdAuth, PluginContent: content(map[string]any{
			"auth_request": req("/q", 2000), "identities": map[string]any{"queries": []any{map[string]any{"name": "token"}}}})},
		&apigwv1.Plugin{Id: "pt-slow", PluginName: "third_slow", PluginType: model.PluginThirdAuth, PluginContent: content(map[string]any{
			"auth_request": req("/slow", 100)})},
		&apigwv1.Plugin{Id: "pt-relaxed", PluginName: "third_relaxed", PluginType: model.PluginThirdAuth, PluginContent: content(map[string]any{
			"auth_request": req("/slow", 100), "auth_downgrade_enabled": true})},
		&apigwv1.Plugin{Id: "pt-down", PluginName: "third_down", PluginType: model.PluginThirdAuth, PluginContent: content(map[string]any{
			"auth_request": map[string]any{"method": "POST", "protocol": "HTTP", "url_domain": "127.0.0.1:1", "path": "/"}})},
		&apigwv1.PluginBinding{Id: "pb-th", ApiId: "api-third", EnvId: model.ReleaseEnvID, PluginId: "pt-h"},
		&apigwv1.PluginBinding{Id: "pb-tall", ApiId: "api-third-all", EnvId: model.ReleaseEnvID, PluginId: "pt-all"},
		&apigwv1.PluginBinding{Id: "pb-tq", ApiId: "api-third-q", EnvId: model.ReleaseEnvID, PluginId: "pt-q"},
		&apigwv1.PluginBinding{Id: "pb-tslow", ApiId: "api-third-slow", EnvId: model.ReleaseEnvID, PluginId: "pt-slow"},
		&apigwv1.PluginBinding{Id: "pb-trelax", ApiId: "api-third-relaxed", EnvId: model.ReleaseEnvID, PluginId: "pt-relaxed"},
		&apigwv1.PluginBinding{Id: "pb-tdown", ApiId: "api-third-down", EnvId: model.ReleaseEnvID, PluginId: "pt-down"},
	)
	return newHarness(t, f.instance(t)), a
}

func TestThirdAuthPlugin(t *testing.T) {
	h, svc := thirdSetup(t)

	// Accepted: the identity header is sent to /auth + the request path,
	// nothing else; X-User is copied to the backend, a client-sent one
	// replaced.
	a := allowedResp(t, h.check(envoyRequest{api: "api-third", path: "/third/7?x=1", headers: map[string]string{
		"X-Token": "good", "X-User": "mallory", "Cookie": "c=1"}}.checkRequest()))
	if a.headers["x-user"] != "alice" {
		t.Errorf("answer header: %v", a.headers)
	}
	if _, ok := a.headers["x-secret-internal"]; ok {
		t.Errorf("an answer header not listed reached the backend: %v", a.headers)
	}
	got := svc.calls()[0]
	if got.Method != "GET" || got.URL.Path != "/auth/third/7" || got.URL.RawQuery != "" || got.Header.Get("X-Token") != "good" || got.Header.Get("Cookie") != "" {
		t.Errorf("service call: %s %s?%s %v", got.Method, got.URL.Path, got.URL.RawQuery, got.Header)
	}
	// Bound in RELEASE only.
	allowedResp(t, h.check(envoyRequest{api: "api-third", env: envTest, path: "/third/7"}.checkRequest()))

	// Without identities every header and the query are sent.
	allowedResp(t, h.check(envoyRequest{api: "api-third-all", path: "/third-all?token=good&y=2", headers: map[string]string{"Cookie": "c=1"}}.checkRequest()))
	got = svc.calls()[1]
	if got.URL.Path != "/all" || got.URL.RawQuery != "token=good&y=2" || got.Header.Get("Cookie") != "c=1" || got.Header.Get("X-Request-Id") != "req-0001" {
		t.Errorf("service call without identities: %s?%s %v", got.URL.Path, got.URL.RawQuery, got.Header)
	}
	// A query identity.
	allowedResp(t, h.check(envoyRequest{api: "api-third-q", path: "/third-q?token=good&other=1"}.checkRequest()))
	if got = svc.calls()[2]; got.URL.RawQuery != "token=good" {
		t.Errorf("query identity call: %s", got.URL.RawQuery)
	}
	// Relaxed mode lets the request through when the service times out.
	allowedResp(t, h.check(envoyRequest{api: "api-third-relaxed", path: "/third-relaxed"}.checkRequest()))

	cases := []struct {
		name, api, path string
		headers         map[string]string
		status          int
		code, typ       string
	}{
		{name: "refused", api: "api-third-q", path: "/third-q?token=bad", status: 401, code: "APIG.0312", typ: "THIRD_AUTH_FAILURE"},
		{name: "identity header missing", api: "api-third", path: "/third/1", status: 401, code: "APIG.0313", typ: "THIRD_AUTH_IDENTITIES_FAILURE"},
		{name: "identity query missing", api: "api-third-q", path: "/third-q", status: 401, code: "APIG.0313", typ: "THIRD_AUTH_IDENTITIES_FAILURE"},
		{name: "timeout", api: "api-third-slow", path: "/third-slow", status: 500, code: "APIG.0616", typ: "THIRD_AUTH_CONF_FAILURE"},
		{name: "unreachable", api: "api-third-down", path: "/third-down", status: 500, code: "APIG.0616", typ: "THIRD_AUTH_CONF_FAILURE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := h.check(envoyRequest{api: c.api, path: c.path, headers: c.headers}.checkRequest())
			status, b, _ := denied(t, resp)
			if status != c.status || b.Code != c.code || metaOf(resp)[dataplane.ExtAuthzMetaErrorType] != c.typ {
				t.Errorf("got %d %+v %v", status, b, metaOf(resp))
			}
		})
	}

	// return_resp_body_enabled: the service's body replaces the gateway
	// response's.
	d := h.check(envoyRequest{api: "api-third", path: "/third/1", headers: map[string]string{"X-Token": "bad"}}.checkRequest()).GetDeniedResponse()
	if d.GetStatus().GetCode() != 401 || d.GetBody() != `{"reason":"bad token"}` {
		t.Errorf("returned body: %d %s", d.GetStatus().GetCode(), d.GetBody())
	}
}

// custom_forbid_limit: after that many failures from one client IP in a
// 5-minute window, its requests are refused with 403 APIG.0314 without
// calling the service, until the window ends; other IPs are unaffected.
func TestThirdAuthBruteForceBlocking(t *testing.T) {
	h, svc := thirdSetup(t)
	// The clock starts at 12:00:00, a window start; move into the window.
	h.clock.Add(2 * time.Minute)
	bad := func(peer string) envoyRequest {
		return envoyRequest{api: "api-third", path: "/third/1", peer: peer, headers: map[string]string{"X-Token": "bad"}}
	}
	for i := 0; i < 3; i++ {
		// The plug-in returns the service's body: the code is in the
		// metadata.
		resp := h.check(bad("203.0.113.9").checkRequest())
		status, _, _ := denied(t, resp)
		if code := metaOf(resp)[dataplane.ExtAuthzMetaErrorCode]; status != 401 || code != "APIG.0312" {
			t.Fatalf("failure %d: %d %s", i+1, status, code)
		}
	}
	calls := len(svc.calls())
	good := envoyRequest{api: "api-third", path: "/third/1", peer: "203.0.113.9", headers: map[string]string{"X-Token": "good"}}
	status, b, _ := denied(t, h.check(good.checkRequest()))
	if status != 403 || b.Code != "APIG.0314" {
		t.Fatalf("blocked IP: %d %+v", status, b)
	}
	if n := len(svc.calls()); n != calls {
		t.Errorf("a blocked request called the service (%d calls, was %d)", n, calls)
	}
	// Another IP is not blocked.
	other := good
	other.peer = "203.0.113.10"
	allowedResp(t, h.check(other.checkRequest()))
	// The window ends at 12:05: unblocked.
	h.clock.Add(3 * time.Minute)
	allowedResp(t, h.check(good.checkRequest()))
}
