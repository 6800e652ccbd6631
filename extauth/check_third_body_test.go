package extauth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// carry_body: the request body (at most max_body_size bytes, marked
// partial beyond) is sent to the service with its content type; without
// carry_body no body is sent.
func TestThirdAuthCarryBody(t *testing.T) {
	type seen struct {
		body, ct, partial string
	}
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{string(b), r.Header.Get("Content-Type"), r.Header.Get("X-Apig-Auth-Partial-Body")})
		mu.Unlock()
		if strings.Contains(string(b), `"user":"alice"`) {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	host := srv.Listener.Addr().String()
	f := newFixture("", nil)
	f.api(&apigwv1.Api{Id: "api-body", Name: "third_body", ReqMethod: "POST", ReqUri: "/body"})
	f.api(&apigwv1.Api{Id: "api-nobody", Name: "third_nobody", ReqMethod: "POST", ReqUri: "/nobody"})
	f.add(
		&apigwv1.Plugin{Id: "pt-body", PluginName: "third_body", PluginType: model.PluginThirdAuth, PluginContent: thirdContent(t, map[string]any{
			"auth_request": map[string]any{"method": "POST", "protocol": "HTTP", "url_domain": host, "path": "/check"},
			"identities":   map[string]any{"headers": []any{map[string]any{"name": "X-Token"}}},
			"carry_body":   map[string]any{"enabled": true, "max_body_size": 20}})},
		&apigwv1.Plugin{Id: "pt-nobody", PluginName: "third_nobody", PluginType: model.PluginThirdAuth, PluginContent: thirdContent(t, map[string]any{
			"auth_request": map[string]any{"method": "POST", "protocol": "HTTP", "url_domain": host, "path": "/check"},
			"carry_body":   map[string]any{"enabled": false, "max_body_size": 1000}})},
		&apigwv1.PluginBinding{Id: "pb-body", ApiId: "api-body", EnvId: model.ReleaseEnvID, PluginId: "pt-body"},
		&apigwv1.PluginBinding{Id: "pb-nobody", ApiId: "api-nobody", EnvId: model.ReleaseEnvID, PluginId: "pt-nobody"},
	)
	h := newHarness(t, f.instance(t))
	post := func(api, path, body string, hdr map[string]string) envoyRequest {
		if hdr == nil {
			hdr = map[string]string{}
		}
		hdr["X-Token"] = "t"
		hdr["Content-Type"] = "application/json"
		return envoyRequest{api: api, method: "POST", path: path, body: body, headers: hdr}
	}
	last := func() seen {
		mu.Lock()
		defer mu.Unlock()
		return got[len(got)-1]
	}

	allowedResp(t, h.check(post("api-body", "/body", `{"user":"alice"}`, nil).checkRequest()))
	if s := last(); s.body != `{"user":"alice"}` || s.ct != "application/json" || s.partial != "" {
		t.Errorf("body sent: %+v", s)
	}
	// Longer than max_body_size: the first 20 bytes, marked partial.
	status, b, _ := denied(t, h.check(post("api-body", "/body", `{"id":1234567890123,"user":"alice"}`, nil).checkRequest()))
	if status != 401 || b.Code != "APIG.0312" {
		t.Errorf("partial body: %d %+v", status, b)
	}
	if s := last(); s.body != `{"id":1234567890123,` || s.partial != "true" {
		t.Errorf("partial body sent: %+v", s)
	}
	// Without carry_body, no body; every header is sent (no identities)
	// but a client-sent partial mark.
	denied(t, h.check(post("api-nobody", "/nobody", `{"user":"alice"}`, map[string]string{"X-Apig-Auth-Partial-Body": "true"}).checkRequest()))
	if s := last(); s.body != "" || s.partial != "" || s.ct != "application/json" {
		t.Errorf("call without carry_body: %+v", s)
	}
}
