package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// pluginDefs are APIs with the cors, set_resp_headers and proxy_mirror
// plug-ins bound in RELEASE, created and bound with apigctl apply.
var pluginDefs = fsGroup + `---
kind: plugin
plugin_name: cors_app
plugin_type: cors
plugin_content: '{"allow_origin":"https://app.example.com","allow_methods":"GET","allow_headers":"X-Token","expose_headers":"X-Backend","max_age":600,"allow_credentials":true}'
---
kind: plugin
plugin_name: resp_headers
plugin_type: set_resp_headers
plugin_content: '{"response_headers":[{"name":"X-Backend","value":"gw","action":"append"},{"name":"Content-Type","value":"text/plain","action":"skip"},{"name":"X-Req","value":"$context.requestId","value_type":"system_parameter","action":"add"},{"name":"X-Frame-Options","value":"DENY","action":"override"}]}'
---
kind: plugin
plugin_name: resp_headers_delete
plugin_type: set_resp_headers
plugin_content: '{"response_headers":[{"name":"x-backend","action":"delete"}]}'
---
kind: plugin
plugin_name: mirror_canary
plugin_type: proxy_mirror
plugin_content: '{"protocol":"HTTP","host":"{canary}","sample_ratio":1,"timeout":3000}'
` + fsAPI("cors_api", "/cors", "") + fsAPI("hdr_api", "/hdrs", "") + fsAPI("del_api", "/del", "") + `---
kind: api
name: mirror_api
group_id: failsafe
req_protocol: HTTP
req_method: POST
req_uri: /mirror
backend_api: {req_protocol: HTTP, req_method: POST, url_domain: "{release}", req_uri: /ok, timeout: 5000}
---
kind: plugin
plugin_name: cors_any
plugin_type: cors
plugin_content: '{"allow_origin":"*","allow_methods":"GET","allow_headers":"X-Token","expose_headers":"X-Mock","max_age":60}'
---
kind: api
name: mock_api
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /mockcors
backend_type: MOCK
mock_info: {status_code: 200, result_content: "mocked", headers: [{key: X-Mock, value: "yes"}]}
---
kind: plugin_binding
api_id: mock_api
env_id: RELEASE
plugin_id: cors_any
---
kind: plugin_binding
api_id: cors_api
env_id: RELEASE
plugin_id: cors_app
---
kind: plugin_binding
api_id: hdr_api
env_id: RELEASE
plugin_id: resp_headers
---
kind: plugin_binding
api_id: del_api
env_id: RELEASE
plugin_id: resp_headers_delete
---
kind: plugin_binding
api_id: mirror_api
env_id: RELEASE
plugin_id: mirror_canary
`

func TestPluginsThroughEnvoy(t *testing.T) {
	w := startFS(t, pluginDefs)
	origin := http.Header{"Origin": {"https://app.example.com"}}

	t.Run("cors_preflight", func(t *testing.T) {
		h := origin.Clone()
		h.Set("Access-Control-Request-Method", "GET")
		h.Set("Access-Control-Request-Headers", "X-Token")
		r := w.call(t, call{method: http.MethodOptions, path: "/cors", header: h})
		wantStatus(t, r, http.StatusOK)
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin":      "https://app.example.com",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET",
			"Access-Control-Allow-Headers":     "X-Token",
			"Access-Control-Max-Age":           "600",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("preflight %s = %q, want %q (%s)", k, got, want, r)
			}
		}
		if b, _, ok := w.be.find(r.requestID); ok {
			t.Errorf("the preflight reached backend %s", b.name)
		}
	})
	t.Run("cors_other_origin", func(t *testing.T) {
		h := http.Header{"Origin": {"https://evil.example.com"}, "Access-Control-Request-Method": {"GET"}}
		r := w.call(t, call{method: http.MethodOptions, path: "/cors", header: h})
		if v := r.header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("an origin the plug-in does not list got Access-Control-Allow-Origin %q", v)
		}
	})
	t.Run("cors_simple_request", func(t *testing.T) {
		r := w.call(t, call{path: "/cors", header: origin})
		wantStatus(t, r, http.StatusOK)
		if r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || r.header.Get("Access-Control-Expose-Headers") != "X-Backend" ||
			r.header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("CORS headers of the response: %v", r.header)
		}
	})
	t.Run("cors_mock", func(t *testing.T) {
		h := origin.Clone()
		h.Set("Access-Control-Request-Method", "GET")
		r := w.call(t, call{method: http.MethodOptions, path: "/mockcors", header: h})
		wantStatus(t, r, http.StatusOK)
		if r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Allow-Methods") != "GET" || r.header.Get("Access-Control-Max-Age") != "60" {
			t.Errorf("mock preflight: %v", r.header)
		}
		r = w.call(t, call{path: "/mockcors", header: origin})
		wantStatus(t, r, http.StatusOK)
		if string(r.body) != "mocked" || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Expose-Headers") != "X-Mock" {
			t.Errorf("mock answer: %s %v", r.body, r.header)
		}
	})
	t.Run("response_headers", func(t *testing.T) {
		r := w.call(t, call{path: "/hdrs"})
		wantStatus(t, r, http.StatusOK)
		if v := r.header.Values("X-Backend"); len(v) != 1 || v[0] != "release,gw" {
			t.Errorf("append: X-Backend = %q, want one header release,gw", v)
		}
		if v := r.header.Get("Content-Type"); v != "application/json" {
			t.Errorf("skip: Content-Type = %q, want the backend's application/json", v)
		}
		if v := r.header.Get("X-Req"); v == "" || v != r.requestID {
			t.Errorf("add $context.requestId: X-Req = %q, request id %q", v, r.requestID)
		}
		if v := r.header.Values("X-Frame-Options"); len(v) != 1 || v[0] != "DENY" {
			t.Errorf("override: X-Frame-Options = %q", v)
		}
		r = w.call(t, call{path: "/del"})
		wantStatus(t, r, http.StatusOK)
		if v := r.header.Values("X-Backend"); len(v) != 0 {
			t.Errorf("delete: X-Backend = %q", v)
		}
	})
	t.Run("mirror", func(t *testing.T) {
		r := w.call(t, call{method: http.MethodPost, path: "/mirror", body: "hello mirror"})
		wantStatus(t, r, http.StatusOK)
		if b, _, ok := w.be.find(r.requestID); !ok || b.name != "release" {
			t.Fatalf("the request did not reach the release backend: %s", r)
		}
		eventually(t, 10*time.Second, func() error {
			got, ok := w.be.canary.request(r.requestID)
			if !ok {
				return fmt.Errorf("the mirror (canary backend) did not receive request %s", r.requestID)
			}
			if got.Method != http.MethodPost || got.Body != "hello mirror" || got.Path != "/ok" || got.Host != w.be.canary.addr() {
				return fmt.Errorf("mirrored request: %s %s host %s body %q", got.Method, got.Path, got.Host, got.Body)
			}
			return nil
		})
	})
}
