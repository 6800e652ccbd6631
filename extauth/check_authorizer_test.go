package extauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/extauth/authorizer"
)

// authzServer is a real HTTP custom authorizer: /front decides by the
// X-Token identity, /back always allows with a grant.
type authzServer struct {
	*httptest.Server
	mu     sync.Mutex
	events map[string][]authorizer.Event
}

func newAuthzServer(t testing.TB) *authzServer {
	s := &authzServer{events: map[string][]authorizer.Event{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev authorizer.Event
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &ev); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.mu.Lock()
		s.events[r.URL.Path] = append(s.events[r.URL.Path], ev)
		s.mu.Unlock()
		if r.URL.Path == "/back" {
			io.WriteString(w, `{"status":"allow","context":{"grant":"rw"}}`)
			return
		}
		switch ev.Headers["x-token"] {
		case "alice":
			io.WriteString(w, `{"status":"allow","context":{"user":"alice","role":"user"}}`)
		case "root":
			io.WriteString(w, `{"statusCode":200,"body":"{\"status\":\"allow\",\"context\":{\"user\":\"root\",\"role\":\"admin\"}}"}`)
		case "mallory":
			io.WriteString(w, `{"status":"deny","context":{"code":"E-42"}}`)
		case "broken":
			http.Error(w, "boom", 500)
		default:
			io.WriteString(w, `{"status":"bogus"}`)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *authzServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events[path])
}

func (s *authzServer) last(path string) authorizer.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := s.events[path]
	return ev[len(ev)-1]
}

func TestCustomAuthorizer(t *testing.T) {
	az := newAuthzServer(t)
	h := newHarness(t, newFixture(az.URL, nil).instance(t))
	req := func(token string) envoyRequest {
		hdrs := map[string]string{}
		if token != "" {
			hdrs["X-Token"] = token
		}
		return envoyRequest{api: "api-authz", path: "/custom?x=1", headers: hdrs}
	}

	a := allowedResp(t, h.check(req("alice").checkRequest()))
	if a.headers["x-user"] != "alice" || a.headers["x-backend-grant"] != "rw" {
		t.Errorf("authorizer context not mapped: %v", a.headers)
	}
	// Both contexts travel in the dynamic metadata, for the kafka_log
	// plug-ins' custom_authorizer fields.
	resp := h.check(req("alice").checkRequest())
	md := resp.GetDynamicMetadata().GetFields()
	front := md[dataplane.ExtAuthzMetaFrontendContext].GetStructValue().GetFields()
	backCtx := md[dataplane.ExtAuthzMetaBackendContext].GetStructValue().GetFields()
	if front["user"].GetStringValue() != "alice" || front["role"].GetStringValue() != "user" || backCtx["grant"].GetStringValue() != "rw" {
		t.Errorf("authorizer contexts in the metadata: frontend %v, backend %v", front, backCtx)
	}
	if got := upstream(t, "/custom?x=1", a); got != "/custom?x=1" {
		t.Errorf("upstream %q", got)
	}
	ev := az.last("/front")
	if ev.Type != "FRONTEND" || ev.UserData != "tenant-a" || ev.QueryStringParameters["x"] != "1" || ev.RequestContext.APIID != "api-authz" ||
		ev.RequestContext.Stage != "RELEASE" || ev.RequestContext.SourceIP != "198.51.100.7" || ev.Headers["host"] != "api.example.com" {
		t.Errorf("frontend event %+v", ev)
	}
	if _, leaked := ev.Headers[":path"]; leaked {
		t.Error("pseudo-headers sent to the authorizer")
	}
	back := az.last("/back")
	if back.Type != "BACKEND" || back.UserData != "backend" || back.RequestContext.Authorizer["user"] != "alice" {
		t.Errorf("backend event %+v", back)
	}

	// Cache: the same identity within the TTL does not call again.
	before := az.count("/front")
	allowedResp(t, h.check(req("alice").checkRequest()))
	if az.count("/front") != before {
		t.Error("cached decision was not used")
	}
	h.clock.Add(61 * time.Second)
	allowedResp(t, h.check(req("alice").checkRequest()))
	if az.count("/front") != before+1 {
		t.Error("expired decision was used")
	}

	// Authorizer context drives a policy backend (FunctionGraph response shape).
	a = allowedResp(t, h.check(req("root").checkRequest()))
	if a.headers[dataplane.ExtAuthzPolicyHeader] != "admins" || upstream(t, "/custom?x=1", a) != "/admin?x=1" {
		t.Errorf("admin policy: %v %v", a.headers, a.meta)
	}

	cases := []struct {
		token  string
		status int
		code   string
		typ    string
	}{
		{token: "", status: 401, code: "APIG.0305", typ: "AUTHORIZER_IDENTITIES_FAILURE"},
		{token: "broken", status: 500, code: "APIG.0305", typ: "AUTHORIZER_CONF_FAILURE"},
		{token: "garbage", status: 500, code: "APIG.0305", typ: "AUTHORIZER_CONF_FAILURE"},
	}
	for _, c := range cases {
		resp := h.check(req(c.token).checkRequest())
		status, b, _ := denied(t, resp)
		if status != c.status || b.Code != c.code || metaOf(resp)[dataplane.ExtAuthzMetaErrorType] != c.typ {
			t.Errorf("token %q: %d %+v %v", c.token, status, b, metaOf(resp))
		}
	}
	// A deny renders the API's custom response set with the authorizer's
	// context.
	d := h.check(req("mallory").checkRequest()).GetDeniedResponse()
	if d.GetStatus().GetCode() != 403 || d.Body != `{"code":"E-42","api":"custom_auth","ip":"198.51.100.7"}` {
		t.Errorf("authorizer deny: %d %s", d.GetStatus().GetCode(), d.Body)
	}
	// Failures are not cached.
	n := az.count("/front")
	h.check(req("broken").checkRequest())
	if az.count("/front") != n+1 {
		t.Error("a failed authorizer call was cached")
	}

	if got := h.counter("apigw_extauth_authorizer_calls_total", map[string]string{"result": "hit"}); got < 1 {
		t.Errorf("authorizer hit counter = %v", got)
	}
}

func TestTwoFactor(t *testing.T) {
	az := newAuthzServer(t)
	h := newHarness(t, newFixture(az.URL, nil).instance(t))
	r := signed("api-2fa", "GET", "/two-factor", map[string]string{"X-Token": "alice"}, "", key1, secret1, testNow)
	a := allowedResp(t, h.check(r.checkRequest()))
	if a.meta[dataplane.ExtAuthzMetaAppID] != "app1" {
		t.Errorf("metadata %v", a.meta)
	}
	if ev := az.last("/front"); ev.RequestContext.AppID != "app1" {
		t.Errorf("the authorizer did not see the authenticated app: %+v", ev.RequestContext)
	}
	// The signature is checked first: no authorizer call for a bad one.
	n := az.count("/front")
	bad := signed("api-2fa", "GET", "/two-factor", map[string]string{"X-Token": "alice"}, "", key1, "wrong", testNow)
	if status, b, _ := denied(t, h.check(bad.checkRequest())); status != 401 || b.Code != "APIG.0303" {
		t.Errorf("bad signature: %d %+v", status, b)
	}
	if az.count("/front") != n {
		t.Error("the authorizer was called before the signature was verified")
	}
	// A good signature with a denying authorizer is denied.
	deny := signed("api-2fa", "GET", "/two-factor", map[string]string{"X-Token": "mallory"}, "", key1, secret1, testNow)
	if status, _, _ := denied(t, h.check(deny.checkRequest())); status != 500 {
		t.Errorf("authorizer deny (default AUTHORIZER_FAILURE status 500): %d", status)
	}
	if !strings.Contains(az.last("/front").UserData, "tenant-a") {
		t.Error("user_data missing")
	}
}
