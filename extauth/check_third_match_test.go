package extauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// resultService answers every call with 200 and X-Message-Result: the
// X-Token request header's value ("success", "failure", ...), or none
// without one; it counts its calls.
func resultService(t *testing.T) (host string, calls *atomic.Int32) {
	t.Helper()
	calls = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if v := r.Header.Get("X-Token"); v != "" {
			w.Header().Set("X-Message-Result", v)
		}
		if r.Header.Get("X-Status") == "403" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), calls
}

func thirdContent(t *testing.T, v map[string]any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Result matching (simple_auth_mode_enabled false): a 2xx answer
// authenticates only when its match_auth header has the value; a 2xx
// without it, or with another value, is refused with APIG.0312 and counts
// as a failure; a non-2xx is refused whatever its headers.
func TestThirdAuthResultMatching(t *testing.T) {
	host, calls := resultService(t)
	f := newFixture("", nil)
	f.api(&apigwv1.Api{Id: "api-match", Name: "third_match", ReqUri: "/match"})
	f.add(
		&apigwv1.Plugin{Id: "pt-match", PluginName: "third_match", PluginType: model.PluginThirdAuth, PluginContent: thirdContent(t, map[string]any{
			"auth_request":             map[string]any{"method": "POST", "protocol": "HTTP", "url_domain": host, "path": "/check"},
			"simple_auth_mode_enabled": false, "match_auth": map[string]any{"key": "x-message-result", "value": "success"},
			"carry_resp_headers": []string{"X-Message-Result"}, "custom_forbid_limit": 4})},
		&apigwv1.PluginBinding{Id: "pb-match", ApiId: "api-match", EnvId: model.ReleaseEnvID, PluginId: "pt-match"},
	)
	h := newHarness(t, f.instance(t))
	req := func(peer string, hdr map[string]string) envoyRequest {
		return envoyRequest{api: "api-match", path: "/match", peer: peer, headers: hdr}
	}

	a := allowedResp(t, h.check(req("198.51.100.1", map[string]string{"X-Token": "success"}).checkRequest()))
	if a.headers["x-message-result"] != "success" {
		t.Errorf("answer header not copied: %v", a.headers)
	}
	for _, c := range []struct {
		name string
		hdr  map[string]string
	}{
		{"other value", map[string]string{"X-Token": "failure"}},
		{"value differs in case", map[string]string{"X-Token": "Success"}},
		{"no header", nil},
		{"non-2xx with the header", map[string]string{"X-Token": "success", "X-Status": "403"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := h.check(req("198.51.100.2", c.hdr).checkRequest())
			status, b, _ := denied(t, resp)
			if status != 401 || b.Code != "APIG.0312" || metaOf(resp)[dataplane.ExtAuthzMetaErrorType] != "THIRD_AUTH_FAILURE" {
				t.Errorf("got %d %+v %v", status, b, metaOf(resp))
			}
		})
	}
	// The mismatches counted towards 198.51.100.2's brute-force limit (4).
	n := calls.Load()
	status, b, _ := denied(t, h.check(req("198.51.100.2", map[string]string{"X-Token": "success"}).checkRequest()))
	if status != 403 || b.Code != "APIG.0314" || calls.Load() != n {
		t.Errorf("after mismatches: %d %+v, calls %d -> %d", status, b, n, calls.Load())
	}
}

// Black/white lists: with allow, requests matching a rule are let through
// without calling the service; with deny, only requests matching a rule
// call it. The rules read the plug-in's parameters from the request.
func TestThirdAuthRules(t *testing.T) {
	host, calls := resultService(t)
	content := func(typ string) string {
		return thirdContent(t, map[string]any{
			"auth_request":             map[string]any{"method": "GET", "protocol": "HTTP", "url_domain": host, "path": "/check"},
			"simple_auth_mode_enabled": false, "match_auth": map[string]any{"key": "X-Message-Result", "value": "success"},
			"carry_resp_headers": []string{"X-Message-Result"},
			"rule_enabled":       true, "rule_type": typ,
			"parameters": []any{
				map[string]any{"name": "reqPath", "type": "path", "value": "reqPath"},
				map[string]any{"name": "tenant", "type": "header", "value": "X-Tenant"},
				map[string]any{"name": "q", "type": "query", "value": "mode"},
			},
			"rules": []any{
				map[string]any{"rule_name": "open", "match_regex": `["reqPath","~~","^/(allow|deny)/open/"]`},
				map[string]any{"rule_name": "tenant", "match_regex": `["AND",["tenant","==","public"],["q","==","ro"]]`},
			},
		})
	}
	f := newFixture("", nil)
	f.api(&apigwv1.Api{Id: "api-allow", Name: "third_allow", ReqUri: "/allow", MatchMode: "SWA"})
	f.api(&apigwv1.Api{Id: "api-deny", Name: "third_deny", ReqUri: "/deny", MatchMode: "SWA"})
	f.add(
		&apigwv1.Plugin{Id: "pt-allow", PluginName: "third_allow", PluginType: model.PluginThirdAuth, PluginContent: content("allow")},
		&apigwv1.Plugin{Id: "pt-deny", PluginName: "third_deny", PluginType: model.PluginThirdAuth, PluginContent: content("DENY")},
		&apigwv1.PluginBinding{Id: "pb-allow", ApiId: "api-allow", EnvId: model.ReleaseEnvID, PluginId: "pt-allow"},
		&apigwv1.PluginBinding{Id: "pb-deny", ApiId: "api-deny", EnvId: model.ReleaseEnvID, PluginId: "pt-deny"},
	)
	h := newHarness(t, f.instance(t))

	for _, c := range []struct {
		name, api, path string
		hdr             map[string]string
		calls           bool // the service is called
		allowed         bool
	}{
		{"allow: matching path skips the call", "api-allow", "/allow/open/x", nil, false, true},
		{"allow: matching header and query skip the call", "api-allow", "/allow/private?mode=ro", map[string]string{"X-Tenant": "public"}, false, true},
		{"allow: half the AND calls", "api-allow", "/allow/private?mode=rw", map[string]string{"X-Tenant": "public"}, true, false},
		{"allow: other path calls, refused", "api-allow", "/allow/private", nil, true, false},
		{"allow: other path calls, accepted", "api-allow", "/allow/private", map[string]string{"X-Token": "success"}, true, true},
		{"deny: matching path calls, refused", "api-deny", "/deny/open/x", map[string]string{"X-Token": "failure"}, true, false},
		{"deny: matching path calls, accepted", "api-deny", "/deny/open/x", map[string]string{"X-Token": "success"}, true, true},
		{"deny: other path skips the call", "api-deny", "/deny/private", nil, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := calls.Load()
			resp := h.check(envoyRequest{api: c.api, path: c.path, headers: c.hdr}.checkRequest())
			if called := calls.Load() != before; called != c.calls {
				t.Errorf("service called: %v, want %v", called, c.calls)
			}
			if c.allowed {
				a := allowedResp(t, resp)
				if !c.calls && !slices.Contains(a.removed, "x-message-result") {
					t.Errorf("a client-sent answer header passes without the call: removed %v", a.removed)
				}
				return
			}
			status, b, _ := denied(t, resp)
			if status != 401 || b.Code != "APIG.0312" {
				t.Errorf("got %d %+v", status, b)
			}
		})
	}
}
