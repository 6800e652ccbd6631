package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authzapi "github.com/apigw/apigw/extauth/authorizer"
	"github.com/apigw/apigw/functions"
)

// FUNCTION backends end to end: the instance's function registry maps
// the APIs' function URNs (a version, an alias) onto a test HTTP
// function; Envoy routes to apigw's function component, which sends APIG's
// trigger event and turns the reply into the response (sync), or answers
// at once and calls the function in the background (async). A custom
// authorizer whose authorizer_uri is a function URN is called at the URL
// the registry maps its alias onto, with the registry's credential.
func TestFunctionBackends(t *testing.T) {
	events := make(chan functions.Event, 10)
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev functions.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || r.Header.Get("Authorization") != "Bearer fn-key" {
			http.Error(w, "bad call", http.StatusBadRequest)
			return
		}
		events <- ev
		body, _ := base64.StdEncoding.DecodeString(ev.Body)
		_, _ = io.WriteString(w, `{"statusCode":201,"headers":{"X-Function":"f1"},"isBase64Encoded":false,"body":"pet `+ev.PathParameters["id"]+` got `+string(body)+`"}`)
	}))
	t.Cleanup(fn.Close)
	authz := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev authzapi.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || r.Header.Get("Authorization") != "Bearer authz-key" {
			http.Error(w, "bad call", http.StatusBadRequest)
			return
		}
		if ev.Headers["x-token"] == "alice" {
			_, _ = io.WriteString(w, `{"status":"allow","context":{"user":"alice"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"status":"deny","context":{"code":"E-1"}}`)
	}))
	t.Cleanup(authz.Close)
	const urn = "urn:fss:cn-north-4:p1:function:default:f1"
	const authzURN = "urn:fss:cn-north-4:p1:function:default:authz"
	w := startFS(t, `kind: instance
name: default
config:
  functions:
    - {urn: "`+urn+`:v1", url: "`+fn.URL+`", authorization: "Bearer fn-key"}
    - {urn: "`+urn+`:!async", url: "`+fn.URL+`", authorization: "Bearer fn-key"}
    - {urn: "`+authzURN+`:!live", url: "`+authz.URL+`", authorization: "Bearer authz-key"}
---`+fsGroup+`---
kind: authorizer
name: fn_token_check
type: FRONTEND
authorizer_type: FUNC
authorizer_uri: "`+authzURN+`"
authorizer_alias_uri: "`+authzURN+`:!live"
identities: [{name: X-Token, location: HEADER}]
---
kind: api
name: fn_guarded
group_id: failsafe
req_protocol: HTTP
req_method: POST
req_uri: /guarded/{id}
auth_type: AUTHORIZER
authorizer_id: fn_token_check
backend_type: FUNCTION
func_info: {function_urn: "`+urn+`", version: v1, invocation_type: sync, network_type: V2, timeout: 5000}
---
kind: api
name: fn_sync
group_id: failsafe
req_protocol: HTTP
req_method: POST
req_uri: /pets/{id}
auth_type: NONE
backend_type: FUNCTION
func_info: {function_urn: "`+urn+`", version: v1, invocation_type: sync, network_type: V2, timeout: 5000}
---
kind: api
name: fn_async
group_id: failsafe
req_protocol: HTTP
req_method: POST
req_uri: /jobs
auth_type: NONE
backend_type: FUNCTION
func_info: {function_urn: "`+urn+`", alias_urn: "`+urn+`:!async", version: v1, invocation_type: async, network_type: V2, timeout: 5000}
`)
	r := w.call(t, call{method: "POST", path: "/pets/42?color=red", body: "hello", header: http.Header{"X-Apigw-Function-Api": {"forged"}}})
	wantStatus(t, r, http.StatusCreated)
	if string(r.body) != "pet 42 got hello" || r.header.Get("X-Function") != "f1" {
		t.Errorf("sync reply %s", r)
	}
	ev := <-events
	if ev.HTTPMethod != "POST" || ev.Path != "/pets/42" || ev.QueryStringParameters["color"] != "red" || !ev.IsBase64Encoded ||
		ev.RequestContext.Stage != "RELEASE" || ev.Headers["host"] != fsHost || ev.RequestContext.RequestID == "" {
		t.Errorf("event %+v", ev)
	}

	// The function authorizer admits alice and refuses bob before the
	// backend function is called (a deny is AUTHORIZER_FAILURE, 500 by
	// default, as in APIG).
	r = w.call(t, call{method: "POST", path: "/guarded/7", body: "x", header: http.Header{"X-Token": {"alice"}}})
	wantStatus(t, r, http.StatusCreated)
	if ev := <-events; ev.Path != "/guarded/7" {
		t.Errorf("guarded event %+v", ev)
	}
	apigError(t, w.call(t, call{method: "POST", path: "/guarded/7", header: http.Header{"X-Token": {"bob"}}}), http.StatusInternalServerError, "APIG.0305")
	select {
	case ev := <-events:
		t.Errorf("the backend function was called for a refused request: %+v", ev)
	default:
	}

	start := time.Now()
	r = w.call(t, call{method: "POST", path: "/jobs", body: "later"})
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "request_id") {
		t.Errorf("async answer %s", r)
	}
	select {
	case ev := <-events:
		if ev.Path != "/jobs" {
			t.Errorf("async event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the async function was not called (answered after %v)", time.Since(start))
	}
}

// FUNCTION policy backends end to end: a request matching a policy's
// conditions (a query parameter Envoy matches natively, a cookie ext_authz
// evaluates) reaches the policy's function (through its alias's registry
// entry, with the policy's backend parameters and invocation type); every
// other request, including one forging the selection headers, reaches the
// default backend's function.
func TestFunctionPolicyBackends(t *testing.T) {
	type hit struct {
		fn string
		ev functions.Event
	}
	hits := make(chan hit, 10)
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev functions.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, "bad call", http.StatusBadRequest)
			return
		}
		hits <- hit{r.URL.Path, ev}
		_, _ = io.WriteString(w, `{"statusCode":200,"isBase64Encoded":false,"body":"from `+r.URL.Path+`"}`)
	}))
	t.Cleanup(fn.Close)
	const urn = "urn:fss:cn-north-4:p1:function:default:"
	w := startFS(t, `kind: instance
name: default
config:
  functions:
    - {urn: "`+urn+`f1", url: "`+fn.URL+`/f1"}
    - {urn: "`+urn+`f2", url: "`+fn.URL+`/f2-unaliased"}
    - {urn: "`+urn+`f2:!gold", url: "`+fn.URL+`/f2-gold"}
    - {urn: "`+urn+`f3", url: "`+fn.URL+`/f3"}
---`+fsGroup+`---
kind: api
name: fn_orders
group_id: failsafe
req_protocol: HTTP
req_method: POST
req_uri: /orders
auth_type: NONE
req_params:
  - {name: tier, location: QUERY}
backend_type: FUNCTION
func_info: {function_urn: "`+urn+`f1", invocation_type: sync, network_type: V2, timeout: 5000}
policy_functions:
  - name: gold
    effect_mode: ANY
    conditions:
      - {condition_origin: param, req_param_name: tier, condition_type: exact, condition_value: gold}
    function_urn: "`+urn+`f2"
    alias_urn: "`+urn+`f2:!gold"
    invocation_type: sync
    network_type: V2
    timeout: 5000
    backend_params:
      - {name: X-Channel, location: HEADER, origin: CONSTANT, value: gold}
  - name: beta_users
    effect_mode: ANY
    conditions:
      - {condition_origin: cookie, cookie_param_name: beta, condition_type: pattern, condition_value: "^on"}
    function_urn: "`+urn+`f3"
    invocation_type: async
    network_type: V2
    timeout: 5000
`)
	next := func(t *testing.T) hit {
		t.Helper()
		select {
		case h := <-hits:
			return h
		case <-time.After(10 * time.Second):
			t.Fatal("no function was called")
		}
		return hit{}
	}
	for _, c := range []struct {
		name  string
		call  call
		fn    string
		async bool
	}{
		{"no condition", call{method: "POST", path: "/orders?tier=tin", body: "a"}, "/f1", false},
		{"query condition", call{method: "POST", path: "/orders?tier=gold", body: "b"}, "/f2-gold", false},
		{"cookie condition by ext_authz", call{method: "POST", path: "/orders", body: "c", header: http.Header{"Cookie": {"beta=onward"}}}, "/f3", true},
		{"forged selection headers", call{method: "POST", path: "/orders", body: "d",
			header: http.Header{"X-Apigw-Function-Policy": {"gold"}, "X-Apigw-Policy": {"beta_users"}}}, "/f1", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := w.call(t, c.call)
			wantStatus(t, r, http.StatusOK)
			if c.async {
				if !strings.Contains(string(r.body), "request_id") {
					t.Errorf("async answer %s", r)
				}
			} else if string(r.body) != "from "+c.fn {
				t.Errorf("reply %s, want from %s\n%s", r.body, c.fn, r.trace)
			}
			h := next(t)
			if h.fn != c.fn {
				t.Errorf("function %s called, want %s\n%s", h.fn, c.fn, r.trace)
			}
			if got := h.ev.Headers["x-channel"]; (c.fn == "/f2-gold") != (got == "gold") {
				t.Errorf("policy backend parameter X-Channel = %q at %s", got, h.fn)
			}
			for k := range h.ev.Headers {
				if strings.HasPrefix(k, "x-apigw-") {
					t.Errorf("internal header %s reached the function", k)
				}
			}
		})
	}
}
