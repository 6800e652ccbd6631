package e2e

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// A third_auth plug-in bound to an API without authentication: Envoy asks
// ext_authz, which calls the authentication service on loopback; a 2xx
// answer lets the request through with the answer's X-User header, a
// refusal is answered 401 APIG.0312 and never reaches the backend.
func TestThirdAuthPluginThroughEnvoy(t *testing.T) {
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/check/third" && r.Header.Get("X-Token") == "good" {
			w.Header().Set("X-User", "alice")
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(svc.Close)
	w := startFS(t, fsGroup+fsAPI("third_api", "/third", "")+`---
kind: plugin
plugin_name: third_users
plugin_type: third_auth
plugin_content: '{"auth_request":{"method":"GET","protocol":"HTTP","url_domain":"`+svc.Listener.Addr().String()+`","path":"/check","timeout":2000},"identities":{"headers":[{"name":"X-Token"}]},"carry_path_enabled":true,"carry_resp_headers":["X-User"]}'
---
kind: plugin_binding
api_id: third_api
env_id: RELEASE
plugin_id: third_users
`)
	r := w.call(t, call{path: "/third", header: http.Header{"X-Token": {"good"}, "X-User": {"mallory"}}})
	wantStatus(t, r, http.StatusOK)
	_, got, ok := w.be.find(r.requestID)
	if !ok {
		t.Fatalf("the request did not reach the backend: %s", r)
	}
	if v := got.Header.Values("X-User"); len(v) != 1 || v[0] != "alice" {
		t.Errorf("X-User at the backend = %q, want the service's", v)
	}
	for name, h := range map[string]http.Header{"refused": {"X-Token": {"bad"}}, "no identity": {}} {
		r := w.call(t, call{path: "/third", header: h})
		wantStatus(t, r, http.StatusUnauthorized)
		if _, _, ok := w.be.find(r.requestID); ok {
			t.Errorf("%s: a refused request reached the backend", name)
		}
	}
}

// carry_body, result matching and a white list through Envoy: Envoy sends
// the POST body to ext_authz, which sends it to the service; the service's
// 200 authenticates only with X-Result: ok; a request to /third-body/open
// matches the white list and never calls the service.
func TestThirdAuthBodyMatchRulesThroughEnvoy(t *testing.T) {
	calls := make(chan string, 10)
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls <- string(b)
		if string(b) == `{"user":"alice"}` {
			w.Header().Set("X-Result", "ok")
		} else {
			w.Header().Set("X-Result", "no")
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(svc.Close)
	w := startFS(t, fsGroup+`---
kind: api
name: third_body
group_id: failsafe
req_protocol: HTTP
req_method: POST
req_uri: /third-body
match_mode: SWA
backend_api: {req_protocol: HTTP, req_method: POST, url_domain: "{release}", req_uri: /ok, timeout: 5000}
---
kind: plugin
plugin_name: third_body
plugin_type: third_auth
plugin_content: '{"auth_request":{"method":"POST","protocol":"HTTP","url_domain":"`+svc.Listener.Addr().String()+`","path":"/check","timeout":2000},"carry_body":{"enabled":true,"max_body_size":1000},"simple_auth_mode_enabled":false,"match_auth":{"key":"X-Result","value":"ok"},"rule_enabled":true,"rule_type":"allow","parameters":[{"name":"reqPath","type":"path","value":"reqPath"}],"rules":[{"rule_name":"open","match_regex":"[\"reqPath\",\"~~\",\"^/third-body/open\"]"}]}'
---
kind: plugin_binding
api_id: third_body
env_id: RELEASE
plugin_id: third_body
`)
	r := w.call(t, call{method: "POST", path: "/third-body", body: `{"user":"alice"}`, header: http.Header{"Content-Type": {"application/json"}}})
	wantStatus(t, r, http.StatusOK)
	if got := <-calls; got != `{"user":"alice"}` {
		t.Errorf("the service got body %q", got)
	}
	r = w.call(t, call{method: "POST", path: "/third-body", body: `{"user":"mallory"}`})
	wantStatus(t, r, http.StatusUnauthorized)
	<-calls
	if _, _, ok := w.be.find(r.requestID); ok {
		t.Errorf("a request whose answer did not match reached the backend")
	}
	r = w.call(t, call{method: "POST", path: "/third-body/open", body: `{}`})
	wantStatus(t, r, http.StatusOK)
	select {
	case b := <-calls:
		t.Errorf("a white-listed request called the service (body %q)", b)
	default:
	}
}

// The service behind a load balance channel, named by its name in the
// plug-in: ext_authz calls the enabled member, never the disabled one.
func TestThirdAuthThroughChannelThroughEnvoy(t *testing.T) {
	member := func(ok bool) (*httptest.Server, *atomic.Int32) {
		n := &atomic.Int32{}
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			if ok && r.Host == "auth.internal" {
				w.WriteHeader(http.StatusOK)
				return
			}
			w.WriteHeader(http.StatusForbidden)
		}))
		t.Cleanup(s.Close)
		return s, n
	}
	on, onCalls := member(true)
	off, offCalls := member(false)
	port := func(s *httptest.Server) string {
		_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
		return p
	}
	w := startFS(t, fsGroup+fsAPI("third_ch", "/third-ch", "")+`---
kind: vpc_channel
name: auth_nodes
port: 80
members: [{host: 127.0.0.1, port: `+port(on)+`, weight: 1}, {host: 127.0.0.1, port: `+port(off)+`, weight: 100, status: 2}]
---
kind: plugin
plugin_name: third_ch
plugin_type: third_auth
plugin_content: '{"auth_request":{"method":"GET","protocol":"HTTP","path":"/check","timeout":2000,"url_domain":"","vpc_channel_enabled":true,"vpc_channel_info":{"vpc_id":"auth_nodes","vpc_proxy_host":"auth.internal"}}}'
---
kind: plugin_binding
api_id: third_ch
env_id: RELEASE
plugin_id: third_ch
`)
	for i := 0; i < 3; i++ {
		wantStatus(t, w.call(t, call{path: "/third-ch"}), http.StatusOK)
	}
	if onCalls.Load() != 3 || offCalls.Load() != 0 {
		t.Errorf("member calls: enabled %d, disabled %d", onCalls.Load(), offCalls.Load())
	}
}
