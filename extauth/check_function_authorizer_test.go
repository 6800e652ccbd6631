package extauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/apigw/apigw/extauth/authorizer"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// A custom authorizer whose authorizer_uri is a function URN is called at
// the URL the instance's function registry maps it onto (alias over
// version), with the registry's credential and the same event as an HTTP
// authorizer; without a registry entry it fails closed.
func TestFunctionAuthorizer(t *testing.T) {
	const urn = "urn:fss:cn-north-4:p1:function:default:authz"
	var mu sync.Mutex
	var auth string
	var got authorizer.Event
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		auth = r.Header.Get("Authorization")
		_ = json.NewDecoder(r.Body).Decode(&got)
		if got.Headers["x-token"] == "alice" {
			_, _ = io.WriteString(w, `{"statusCode":200,"body":"{\"status\":\"allow\",\"context\":{\"user\":\"alice\"}}"}`)
			return
		}
		_, _ = io.WriteString(w, `{"status":"deny","context":{"code":"E-1"}}`)
	}))
	t.Cleanup(fn.Close)
	relaxed := false
	build := func(fns ...*apigwv1.FunctionTarget) *harness {
		f := newFixture("", &apigwv1.InstanceConfig{Functions: fns})
		f.add(&apigwv1.Authorizer{Id: "az-fn", Name: "fn_auth", Type: model.AuthorizerFrontend, AuthorizerUri: urn, AuthorizerVersion: "v1",
			AuthorizerAliasUri: urn + ":!live", UserData: "u", AuthDowngradeEnabled: relaxed, Identities: []*apigwv1.Identity{{Name: "X-Token", Location: model.LocHeader}}})
		f.api(&apigwv1.Api{Id: "api-fn-auth", Name: "fn_auth_api", ReqUri: "/fn", AuthType: model.AuthAuthorizer, AuthorizerId: "az-fn"})
		return newHarness(t, f.instance(t))
	}
	req := func(token string) envoyRequest {
		return envoyRequest{api: "api-fn-auth", path: "/fn", headers: map[string]string{"X-Token": token}}
	}
	h := build(&apigwv1.FunctionTarget{Urn: urn + ":v1", Url: "http://127.0.0.1:1/version"},
		&apigwv1.FunctionTarget{Urn: urn + ":!live", Url: fn.URL, Authorization: "Bearer fn-key"})
	allowedResp(t, h.check(req("alice").checkRequest()))
	mu.Lock()
	if auth != "Bearer fn-key" || got.Type != "FRONTEND" || got.UserData != "u" || got.RequestContext.APIID != "api-fn-auth" {
		t.Errorf("authorization %q event %+v", auth, got)
	}
	mu.Unlock()
	if _, b, _ := denied(t, h.check(req("bob").checkRequest())); !strings.Contains(b.Msg, "denied") {
		t.Errorf("deny: %+v", b)
	}

	// Not in the registry (as after a write that bypassed validation):
	// fail closed with AUTHORIZER_CONF_FAILURE.
	h = build()
	if status, b, _ := denied(t, h.check(req("alice").checkRequest())); status != 500 || b.Code != "APIG.0305" || !strings.Contains(b.Msg, "authorizer failed") {
		t.Errorf("unregistered function authorizer: %d %+v", status, b)
	}
	// Relaxed mode does not let requests through: there is nothing to call.
	relaxed = true
	h = build()
	if status, b, _ := denied(t, h.check(req("alice").checkRequest())); status != 500 || b.Code != "APIG.0305" {
		t.Errorf("unregistered relaxed function authorizer: %d %+v", status, b)
	}

	// Without an alias entry the function's own entry serves it (its
	// version entry does not: the authorizer names an alias).
	relaxed = false
	h = build(&apigwv1.FunctionTarget{Urn: urn + ":v1", Url: "http://127.0.0.1:1/version"}, &apigwv1.FunctionTarget{Urn: urn, Url: fn.URL})
	allowedResp(t, h.check(req("alice").checkRequest()))
	mu.Lock()
	if auth != "" {
		t.Errorf("authorization %q sent without a registry credential", auth)
	}
	mu.Unlock()
}
