package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/apigw/apigw/dataplane"
)

// Backends called with another method than the client's
// (docs/apig-semantics.md#backend-method): ext_authz sets :method and its
// marker, the emulated Envoy keeps the route or, when ext_authz also
// strips a query parameter, matches the route again and lands on the
// backend's marker variant — never on the POST API of the same path,
// whose own backend is called with GET. The marker never reaches a
// backend, and a client sending it is refused.
func TestBackendIsCalledWithItsMethod(t *testing.T) {
	w := startFS(t, fsGroup+`---
kind: api
name: get_order
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /orders
auth_type: NONE
req_params:
  - {name: trace, location: QUERY, pass_through: 2}
  - {name: tier, location: HEADER}
backend_api: {req_protocol: HTTP, req_method: POST, url_domain: "{release}", req_uri: /v1/orders, timeout: 5000}
policy_https:
  - name: gold
    effect_mode: ANY
    conditions:
      - {condition_origin: param, req_param_name: tier, condition_type: exact, condition_value: gold}
    req_protocol: HTTP
    req_method: PUT
    url_domain: "{canary}"
    req_uri: /gold
---
kind: api
name: post_order
group_id: failsafe
req_protocol: HTTP
req_method: POST
req_uri: /orders
auth_type: NONE
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{canary}", req_uri: /post-orders, timeout: 5000}
`)
	for _, c := range []struct {
		name           string
		call           call
		backend        *backend
		method, path   string
		wantRawQueryNo string
	}{
		{"route kept", call{method: "GET", path: "/orders"}, w.be.release, "POST", "/v1/orders", ""},
		{"route matched again", call{method: "GET", path: "/orders?trace=1&x=2"}, w.be.release, "POST", "/v1/orders", "trace="},
		{"policy backend", call{method: "GET", path: "/orders?trace=1", header: http.Header{"Tier": {"gold"}}}, w.be.canary, "PUT", "/gold", "trace="},
		{"the other API of the path", call{method: "POST", path: "/orders", body: "{}"}, w.be.canary, "GET", "/post-orders", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := w.call(t, c.call)
			wantStatus(t, r, http.StatusOK)
			b, got, ok := w.be.find(r.requestID)
			if !ok {
				t.Fatalf("no backend received the request: %s", r)
			}
			if b != c.backend || got.Method != c.method || got.Path != c.path {
				t.Errorf("backend %s got %s %s, want %s %s %s\n%s", b.name, got.Method, got.Path, c.backend.name, c.method, c.path, r.trace)
			}
			if got.Header.Get(dataplane.ExtAuthzMethodHeader) != "" || got.Header.Get(dataplane.ExtAuthzPolicyHeader) != "" {
				t.Errorf("internal headers reached the backend: %v", got.Header)
			}
			if c.wantRawQueryNo != "" && strings.Contains(got.RawQuery, c.wantRawQueryNo) {
				t.Errorf("stripped parameter reached the backend: %q", got.RawQuery)
			}
		})
	}
	forged := w.call(t, call{method: "POST", path: "/orders", header: http.Header{"X-Apigw-Backend-Method": {"x/y/"}}})
	apigError(t, forged, http.StatusNotFound, "APIG.0101")
}
