package extauth_test

import (
	"slices"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/extauth"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func TestUnknownAPI(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	cases := []struct {
		name string
		req  envoyRequest
	}{
		{name: "no-context-extensions", req: envoyRequest{path: "/x"}},
		{name: "unknown-api", req: envoyRequest{api: "nope", path: "/x"}},
		{name: "not-published-in-env", req: envoyRequest{api: "api-post", env: envTest, path: "/orders"}},
		{name: "unknown-env", req: envoyRequest{api: "api-app", env: "env-nope", path: "/pets/1"}},
		{name: "path-does-not-match", req: envoyRequest{api: "api-mock", path: "/other"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, b, _ := denied(t, h.check(c.req.checkRequest()))
			if status != 404 || b.Code != "APIG.0101" || !strings.Contains(b.Msg, "does not exist") {
				t.Errorf("got %d %+v", status, b)
			}
		})
	}
	req := envoyRequest{api: "x", path: "/x"}.checkRequest()
	req.Attributes.ContextExtensions[dataplane.ExtAuthzCtxInstance] = "no-such-instance"
	if status, _, _ := denied(t, h.check(req)); status != 404 {
		t.Errorf("unknown instance: %d", status)
	}
	// A check without HTTP attributes is a 400, not a gRPC error.
	resp := h.check(&authv3.CheckRequest{})
	if status, b, _ := denied(t, resp); status != 400 || b.Code != "APIG.0201" {
		t.Errorf("empty check: %d %+v", status, b)
	}
}

func TestEnvironmentSelection(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	r := signed("api-app", "GET", "/pets/3", nil, "", key1, secret1, testNow)
	r.env = envTest
	// app1 is authorized in RELEASE only.
	if status, b, _ := denied(t, h.check(r.checkRequest())); status != 403 || b.Code != "APIG.0304" {
		t.Errorf("TEST environment: %d %+v", status, b)
	}
}

func TestProtocol(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	r := envoyRequest{api: "api-https", path: "/secure", scheme: "http"}
	status, b, _ := denied(t, h.check(r.checkRequest()))
	if status != 400 || b.Code != "APIG.0607" || b.Msg != "The following protocol is supported: HTTPS" {
		t.Errorf("got %d %+v", status, b)
	}
	r.scheme = "https"
	allowedResp(t, h.check(r.checkRequest()))
}

func TestIPACL(t *testing.T) {
	cases := []struct {
		name   string
		cfg    *apigwv1.InstanceConfig
		api    string
		peer   string
		hdrs   map[string]string
		status int
		code   string
	}{
		{name: "deny-cidr", api: "api-params", peer: "203.0.113.9", status: 403, code: "APIG.0402"},
		{name: "deny-range", api: "api-params", peer: "198.51.100.201", status: 403, code: "APIG.0402"},
		{name: "outside-deny", api: "api-params", peer: "198.51.100.199"},
		{name: "permit-inside", api: "api-https", peer: "198.51.100.1"},
		{name: "permit-outside", api: "api-https", peer: "192.0.2.1", status: 403, code: "APIG.0402"},
		{name: "unknown-ip", api: "api-https", peer: "not-an-ip", status: 403, code: "APIG.0401"},
		{name: "xff-ignored-by-default", api: "api-params", peer: "192.0.2.1", hdrs: map[string]string{"X-Forwarded-For": "203.0.113.9"}},
		{name: "xff-last", api: "api-params", peer: "192.0.2.1", hdrs: map[string]string{"X-Forwarded-For": "192.0.2.50, 203.0.113.9"},
			cfg: &apigwv1.InstanceConfig{RealIpFromXff: &apigwv1.RealIpFromXff{Enable: true, XffIndex: -1}}, status: 403, code: "APIG.0402"},
		{name: "xff-first", api: "api-params", peer: "192.0.2.1", hdrs: map[string]string{"X-Forwarded-For": "203.0.113.9, 192.0.2.50"},
			cfg: &apigwv1.InstanceConfig{RealIpFromXff: &apigwv1.RealIpFromXff{Enable: true, XffIndex: 0}}, status: 403, code: "APIG.0402"},
		{name: "xff-first-clean", api: "api-params", peer: "203.0.113.9", hdrs: map[string]string{"X-Forwarded-For": "192.0.2.50, 203.0.113.9"},
			cfg: &apigwv1.InstanceConfig{RealIpFromXff: &apigwv1.RealIpFromXff{Enable: true, XffIndex: 0}}},
		{name: "header-getter", api: "api-params", peer: "192.0.2.1", hdrs: map[string]string{"X-Real-Client": "203.0.113.77"},
			cfg: &apigwv1.InstanceConfig{RealIpHeaderGetter: &apigwv1.RealIpHeaderGetter{Enable: true, HeaderGetter: "header:X-Real-Client"}}, status: 403, code: "APIG.0402"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, newFixture("", c.cfg).instance(t))
			hdrs := map[string]string{"x-mode": "fast"}
			for k, v := range c.hdrs {
				hdrs[k] = v
			}
			path := "/search"
			if c.api == "api-https" {
				path = "/secure"
			}
			resp := h.check(envoyRequest{api: c.api, path: path, peer: c.peer, headers: hdrs}.checkRequest())
			if c.status == 0 {
				allowedResp(t, resp)
				return
			}
			status, b, _ := denied(t, resp)
			if status != c.status || b.Code != c.code {
				t.Errorf("got %d %+v", status, b)
			}
		})
	}
}

func TestRequestParameters(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	cases := []struct {
		name  string
		path  string
		hdrs  map[string]string
		msg   string
		check func(t *testing.T, a allowed)
	}{
		{name: "missing-required-header", path: "/search", msg: "parameter x-mode (HEADER) is required"},
		{name: "enum", path: "/search", hdrs: map[string]string{"x-mode": "medium"}, msg: "parameter x-mode (HEADER) must be one of fast,slow"},
		{name: "not-a-number", path: "/search?limit=ten", hdrs: map[string]string{"x-mode": "fast"}, msg: "parameter limit (QUERY) must be a number"},
		{name: "above-max", path: "/search?limit=101", hdrs: map[string]string{"x-mode": "fast"}, msg: "parameter limit (QUERY) must be between 1 and 100"},
		{name: "below-min", path: "/search?limit=0", hdrs: map[string]string{"x-mode": "fast"}, msg: "must be between 1 and 100"},
		{name: "too-short", path: "/search?q=a", hdrs: map[string]string{"x-mode": "fast"}, msg: "parameter q (QUERY) length must be between 2 and 5"},
		{name: "too-long", path: "/search?q=%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD", hdrs: map[string]string{"x-mode": "fast"}, msg: "length must be between 2 and 5"},
		{name: "defaults-and-strip", path: "/search?q=%E4%BD%A0%E5%A5%BD&secret=s3&keep=1", hdrs: map[string]string{"x-mode": "slow", "x-internal": "t", "cookie": "a=1; session=abc"},
			check: func(t *testing.T, a allowed) {
				if a.querySet["limit"] != "10" || a.querySet["size"] != "10" {
					t.Errorf("default limit not inserted/mapped: %v", a.querySet)
				}
				if a.headers["x-lang"] != "en" || a.headers["x-session"] != "abc" {
					t.Errorf("headers %v", a.headers)
				}
				if !slices.Contains(a.queryRm, "secret") || !slices.Contains(a.removed, "x-internal") {
					t.Errorf("pass_through=never not stripped: query %v headers %v", a.queryRm, a.removed)
				}
				if got := upstream(t, "/search?q=%E4%BD%A0%E5%A5%BD&secret=s3&keep=1", a); !sameURL(got, "/search?q=%E4%BD%A0%E5%A5%BD&keep=1&limit=10&size=10") {
					t.Errorf("upstream = %q", got)
				}
			}},
		{name: "given-values-kept", path: "/search?limit=50", hdrs: map[string]string{"x-mode": "fast", "x-lang": "de"},
			check: func(t *testing.T, a allowed) {
				if _, set := a.headers["x-lang"]; set {
					t.Error("a present parameter was overwritten by its default")
				}
				if a.querySet["size"] != "50" {
					t.Errorf("size = %q", a.querySet["size"])
				}
				if got := upstream(t, "/search?limit=50", a); !sameURL(got, "/search?limit=50&size=50") {
					t.Errorf("upstream = %q", got)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := h.check(envoyRequest{api: "api-params", path: c.path, headers: c.hdrs}.checkRequest())
			if c.check != nil {
				c.check(t, allowedResp(t, resp))
				return
			}
			status, b, _ := denied(t, resp)
			if status != 400 || b.Code != "APIG.0106" || !strings.Contains(b.Msg, c.msg) {
				t.Errorf("got %d %+v, want message %q", status, b, c.msg)
			}
		})
	}
}

func TestBackendMapping(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	// docs/apig-semantics.md#backend-parameters: GET /v1.0/aaa?test03=ccc
	// with test02: bbb → GET /v1.0/bbb with headers test01: aaa and test03:
	// ccc.
	a := allowedResp(t, h.check(envoyRequest{api: "api-map", path: "/v1.0/aaa?test03=ccc", headers: map[string]string{"test02": "bbb"}}.checkRequest()))
	if a.headers["test01"] != "aaa" || a.headers["test03"] != "ccc" {
		t.Errorf("headers %v", a.headers)
	}
	if got := upstream(t, "/v1.0/aaa?test03=ccc", a); got != "/v1.0/bbb?test03=ccc" {
		t.Errorf("upstream = %q", got)
	}
	// A header value is percent-encoded into the path.
	a = allowedResp(t, h.check(envoyRequest{api: "api-map", path: "/v1.0/a%20b", headers: map[string]string{"test02": "x/y z"}}.checkRequest()))
	if got := a.meta[dataplane.ExtAuthzMetaBackendPath]; got != "/v1.0/x%2Fy%20z" || a.headers["test01"] != "a b" {
		t.Errorf("backend_path = %q, test01 = %q", got, a.headers["test01"])
	}

	paths := []struct{ api, in, want string }{
		{"api-prefix", "/test/AA/CC", "/test2/AA/CC"},
		{"api-prefix", "/test", "/test2/"},
		{"api-prefix", "/test/", "/test2/"},
		{"api-prefix", "/test/a?x=1", "/test2/a?x=1"},
		{"api-prefix", "/test/deep/x", "/deep/deep/x"},
		{"api-greedy", "/files/a/b%20c/d.txt", "/store/a/b%20c/d.txt"},
		{"api-app", "/pets/9", "/v1/pets/9?tag=%5Bapi%5D%20x%26y"},
	}
	for _, p := range paths {
		var r envoyRequest
		if p.api == "api-app" {
			r = signed(p.api, "GET", p.in, nil, "", key1, secret1, testNow)
		} else {
			r = envoyRequest{api: p.api, path: p.in}
		}
		a := allowedResp(t, h.check(r.checkRequest()))
		if got := upstream(t, p.in, a); !sameURL(got, p.want) {
			t.Errorf("%s %s: upstream = %q, want %q", p.api, p.in, got, p.want)
		}
	}
	if status, _, _ := denied(t, h.check(envoyRequest{api: "api-prefix", path: "/testing"}.checkRequest())); status != 404 {
		t.Errorf("prefix must match at a / boundary: %d", status)
	}
	// Mock APIs carry no backend path.
	a = allowedResp(t, h.check(envoyRequest{api: "api-mock", path: "/mock"}.checkRequest()))
	if _, ok := a.meta[dataplane.ExtAuthzMetaBackendPath]; ok {
		t.Error("mock API got a backend_path")
	}
}

func TestPolicyBackends(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	cases := []struct {
		name, method, path, peer string
		hdrs                     map[string]string
		policy                   string // "" = default
		backend                  string
	}{
		{name: "default", method: "GET", path: "/routed", backend: "/default"},
		{name: "all-conditions", method: "GET", path: "/routed?tier=gold", policy: "gold_tier", backend: "/gold?tier=gold"},
		{name: "all-but-method", method: "POST", path: "/routed?tier=gold", backend: "/default?tier=gold"},
		{name: "any-source-cidr", method: "POST", path: "/routed", peer: "10.2.3.4", policy: "lan_users", backend: "/lan"},
		{name: "any-source-ip", method: "GET", path: "/routed", peer: "172.16.0.1", policy: "lan_users", backend: "/lan"},
		{name: "any-cookie-pattern", method: "GET", path: "/routed", hdrs: map[string]string{"cookie": "beta=onward"}, policy: "lan_users", backend: "/lan"},
		{name: "first-match-wins", method: "GET", path: "/routed?tier=gold", peer: "10.0.0.1", policy: "gold_tier", backend: "/gold?tier=gold"},
		{name: "client-header-removed", method: "GET", path: "/routed", hdrs: map[string]string{dataplane.ExtAuthzPolicyHeader: "gold_tier"}, backend: "/default"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := allowedResp(t, h.check(envoyRequest{api: "api-policy", method: c.method, path: c.path, peer: c.peer, headers: c.hdrs}.checkRequest()))
			if c.policy != "" {
				if a.headers[dataplane.ExtAuthzPolicyHeader] != c.policy || a.meta[dataplane.ExtAuthzMetaPolicy] != c.policy {
					t.Errorf("policy header %q, metadata %q; want %q", a.headers[dataplane.ExtAuthzPolicyHeader], a.meta[dataplane.ExtAuthzMetaPolicy], c.policy)
				}
			} else if _, set := a.headers[dataplane.ExtAuthzPolicyHeader]; set {
				t.Errorf("default backend selected but policy header set to %q", a.headers[dataplane.ExtAuthzPolicyHeader])
			}
			if c.hdrs[dataplane.ExtAuthzPolicyHeader] != "" && !slices.Contains(a.removed, dataplane.ExtAuthzPolicyHeader) {
				t.Errorf("client-sent policy header not removed: %v", a.removed)
			}
			if got := upstream(t, c.path, a); got != c.backend {
				t.Errorf("upstream %q, want %q", got, c.backend)
			}
			if c.policy == "gold_tier" && a.headers["x-tier"] != "gold" {
				t.Errorf("policy backend parameters not applied: %v", a.headers)
			}
		})
	}
}

func TestGatewayResponseTemplates(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	// UNAUTHORIZED is overridden to 403 in the group's default set.
	status, _, hdrs := denied(t, h.check(signed("api-app", "GET", "/pets/1", nil, "", key2, secret2, testNow).checkRequest()))
	if status != 403 || hdrs["content-type"] != "application/json" {
		t.Errorf("UNAUTHORIZED: %d %v", status, hdrs)
	}
	resp := h.check(signed("api-app", "GET", "/pets/1", nil, "", key2, secret2, testNow).checkRequest())
	m := metaOf(resp)
	if m[dataplane.ExtAuthzMetaErrorCode] != "APIG.0304" || m[dataplane.ExtAuthzMetaErrorType] != "UNAUTHORIZED" || m[dataplane.ExtAuthzMetaErrorMessage] == "" || m[dataplane.ExtAuthzMetaAppID] != "app2" {
		t.Errorf("denial metadata %v", m)
	}
}

func TestNoSnapshotFailsClosedOrOpen(t *testing.T) {
	h := newHarness(t, nil)
	status, b, _ := denied(t, h.check(envoyRequest{api: "api-app", path: "/pets/1"}.checkRequest()))
	if status != 500 || b.Code != "APIG.0601" {
		t.Errorf("fail closed: %d %+v", status, b)
	}
	open := newHarness(t, nil, extauth.WithFailOpen(true))
	allowedResp(t, open.check(envoyRequest{api: "api-app", path: "/pets/1"}.checkRequest()))
}

func TestSnapshotUpdate(t *testing.T) {
	f := newFixture("", nil)
	h := newHarness(t, f.instance(t))
	r := signed("api-app", "GET", "/pets/1", nil, "", key2, secret2, testNow)
	if status, _, _ := denied(t, h.check(r.checkRequest())); status != 403 {
		t.Fatalf("before: %d", status)
	}
	f.authorize("app2", "api-app")
	h.feed.Publish(live.NewSnapshot(2, map[string]*model.Instance{model.DefaultInstance: f.instance(t)}, nil))
	allowedResp(t, h.check(r.checkRequest()))
}

func TestDebugHeaders(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	r := signed("api-app", "GET", "/pets/1", map[string]string{"X-Apig-Mode": "debug"}, "", key1, secret1, testNow)
	a := allowedResp(t, h.check(r.checkRequest()))
	if !strings.Contains(a.respHdrs["X-Apig-Debug-Api"], "api-app") || a.respHdrs["X-Apig-Debug-Backend"] != "default" || a.respHdrs["X-Apig-Debug-App"] != "app1" {
		t.Errorf("debug headers %v", a.respHdrs)
	}
	_, _, hdrs := denied(t, h.check(envoyRequest{api: "api-app", path: "/pets/1", headers: map[string]string{"X-Apig-Mode": "debug"}}.checkRequest()))
	if hdrs["x-apig-debug-reason"] != string(extauth.ReasonAuthMissing) {
		t.Errorf("denial debug headers %v", hdrs)
	}
	plain := allowedResp(t, h.check(signed("api-app", "GET", "/pets/1", nil, "", key1, secret1, testNow).checkRequest()))
	if len(plain.respHdrs) != 0 {
		t.Errorf("debug headers without X-Apig-Mode: %v", plain.respHdrs)
	}
}
