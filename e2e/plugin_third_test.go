package e2e

import (
	"net/http"
	"net/http/httptest"
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
