package extauth_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/extauth/sign"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func TestFixtureIsValid(t *testing.T) {
	f := newFixture("http://127.0.0.1:1", nil)
	in := f.instance(t)
	for _, o := range f.objs {
		if vs := model.Validate(o, model.InstanceLimits(in.Config)); len(vs) > 0 {
			t.Errorf("%s %s: %v", model.KindOf(o).Name, model.IDOf(o), vs)
		}
		if vs := in.Check(o); len(vs) > 0 {
			t.Errorf("%s %s: %v", model.KindOf(o).Name, model.IDOf(o), vs)
		}
	}
}

// The "done when" case: a request signed by an independent
// implementation for an authorized app is allowed with the mapped backend
// headers.
func TestAppSignatureAllowed(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	for _, raw := range []bool{false, true} {
		r := signed("api-app", "GET", "/pets/42?b=2&a=1&a=0", map[string]string{"Content-Type": "application/json", "X-Extra": " v "}, "", key1, secret1, testNow.Add(-5*time.Minute))
		r.rawHdrs = raw
		a := allowedResp(t, h.check(r.checkRequest()))
		want := map[string]string{
			"x-pet-id": "42", "x-src": "198.51.100.7", "x-app": "app1", "x-app-name": "client_one", "x-env": "RELEASE",
			"x-api": "get_pet", "x-req": "req-0001", "x-server": "gw-1", "x-addr": "10.1.0.5", "x-time": "2026-03-01T12:00:00Z",
		}
		for k, v := range want {
			if a.headers[k] != v {
				t.Errorf("raw=%v: header %s = %q, want %q", raw, k, a.headers[k], v)
			}
		}
		if got := a.querySet["tag"]; got != "%5Bapi%5D%20x%26y" {
			t.Errorf("constant query tag = %q", got)
		}
		if got := upstream(t, r.path, a); !sameURL(got, "/v1/pets/42?b=2&a=1&a=0&tag=%5Bapi%5D%20x%26y") {
			t.Errorf("upstream = %q", got)
		}
		for k, v := range map[string]string{dataplane.ExtAuthzMetaAppID: "app1", dataplane.ExtAuthzMetaClientIP: "198.51.100.7", dataplane.ExtAuthzMetaAPIID: "api-app", dataplane.ExtAuthzMetaEnvID: model.ReleaseEnvID} {
			if a.meta[k] != v {
				t.Errorf("metadata %s = %q, want %q", k, a.meta[k], v)
			}
		}
	}
}

func TestAppSignatureWithBody(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	body := `{"item":"ball","qty":2}`
	r := signed("api-post", "POST", "/orders", map[string]string{"Content-Type": "application/json"}, body, key1, secret1, testNow)
	r.method = "POST"
	allowedResp(t, h.check(r.checkRequest()))

	tampered := r
	tampered.body = `{"item":"ball","qty":200}`
	status, b, _ := denied(t, h.check(tampered.checkRequest()))
	if status != 401 || b.Code != "APIG.0303" {
		t.Errorf("tampered body: %d %+v", status, b)
	}
	// UNSIGNED-PAYLOAD leaves the body out of the signature.
	u := signed("api-post", "POST", "/orders", map[string]string{sign.ContentSHA256Header: sign.UnsignedPayload}, body, key1, secret1, testNow)
	u.body = "anything"
	allowedResp(t, h.check(u.checkRequest()))
}

func TestAppSignatureDenials(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	good := func() envoyRequest {
		return signed("api-app", "GET", "/pets/7", nil, "", key1, secret1, testNow)
	}
	cases := []struct {
		name   string
		req    func() envoyRequest
		status int
		code   string
		msg    string
		reason string
	}{
		{name: "no-authorization", status: 401, code: "APIG.0303", msg: "authentication header is missing", req: func() envoyRequest {
			r := good()
			delete(r.headers, "Authorization")
			return r
		}},
		{name: "malformed", status: 401, code: "APIG.0303", msg: "not an SDK-HMAC-SHA256 signature", req: func() envoyRequest {
			r := good()
			r.headers["Authorization"] = "Bearer abc"
			return r
		}},
		{name: "unknown-key", status: 401, code: "APIG.0303", msg: "app not found, appkey nobody-000000", req: func() envoyRequest {
			return signed("api-app", "GET", "/pets/7", nil, "", "nobody-000000", secret1, testNow)
		}},
		{name: "wrong-secret", status: 401, code: "APIG.0303", msg: "verify signature fail", req: func() envoyRequest {
			return signed("api-app", "GET", "/pets/7", nil, "", key1, "wrong-secret", testNow)
		}},
		{name: "expired", status: 401, code: "APIG.0303", msg: "signature expired, signature time:20260301T114459Z,server time:20260301T120000Z", req: func() envoyRequest {
			return signed("api-app", "GET", "/pets/7", nil, "", key1, secret1, testNow.Add(-15*time.Minute-time.Second))
		}},
		{name: "tampered-path", status: 401, code: "APIG.0303", req: func() envoyRequest {
			r := good()
			r.path = "/pets/8"
			return r
		}},
		{name: "signed-header-stripped", status: 401, code: "APIG.0303", msg: "signed header x-trace is missing", req: func() envoyRequest {
			r := signed("api-app", "GET", "/pets/7", map[string]string{"X-Trace": "1"}, "", key1, secret1, testNow)
			delete(r.headers, "X-Trace")
			return r
		}},
		{name: "not-authorized", status: 403, code: "APIG.0304", req: func() envoyRequest {
			return signed("api-app", "GET", "/pets/7", nil, "", key2, secret2, testNow)
		}},
		{name: "frozen", status: 405, code: "APIG.0502", req: func() envoyRequest {
			return signed("api-app", "GET", "/pets/7", nil, "", key3, "app-secret-0003", testNow)
		}},
		{name: "app-acl", status: 403, code: "APIG.0405", req: func() envoyRequest {
			return signed("api-app", "GET", "/pets/7", nil, "", key4, secret4, testNow)
		}},
		{name: "bad-number-path", status: 400, code: "APIG.0106", msg: "parameter id (PATH) must be a number", req: func() envoyRequest {
			return signed("api-app", "GET", "/pets/abc", nil, "", key1, secret1, testNow)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, b, hdrs := denied(t, h.check(c.req().checkRequest()))
			if status != c.status || b.Code != c.code || b.RequestID != "req-0001" {
				t.Fatalf("got %d %+v, want %d %s", status, b, c.status, c.code)
			}
			if c.msg != "" && !strings.Contains(b.Msg, c.msg) {
				t.Errorf("message %q does not contain %q", b.Msg, c.msg)
			}
			if c.code == "APIG.0303" && c.name != "no-authorization" && hdrs["x-auth-hint"] == "" {
				t.Error("the group's AUTH_FAILURE response header is missing")
			}
		})
	}
	// The app ACL admits its network and range.
	for _, ip := range []string{"192.168.3.4", "10.9.0.5"} {
		r := signed("api-app", "GET", "/pets/7", nil, "", key4, secret4, testNow)
		r.peer = ip
		allowedResp(t, h.check(r.checkRequest()))
	}
}

func TestAppCode(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	r := envoyRequest{api: "api-code", path: "/code", headers: map[string]string{"X-Apig-AppCode": appCode1}}
	a := allowedResp(t, h.check(r.checkRequest()))
	if a.meta[dataplane.ExtAuthzMetaAppID] != "app1" {
		t.Errorf("app_id = %q", a.meta[dataplane.ExtAuthzMetaAppID])
	}
	// Signatures still work on AppCode APIs.
	allowedResp(t, h.check(signed("api-code", "GET", "/code", nil, "", key1, secret1, testNow).checkRequest()))

	cases := []struct {
		name, scheme, code string
		status             int
	}{
		{name: "http", scheme: "http", code: appCode1, status: 401},
		{name: "unknown", scheme: "https", code: "Code9" + strings.Repeat("b", 70), status: 401},
		{name: "prefix-of-real-code", scheme: "https", code: appCode1[:40], status: 401},
	}
	for _, c := range cases {
		r := envoyRequest{api: "api-code", path: "/code", scheme: c.scheme, headers: map[string]string{"X-Apig-AppCode": c.code}}
		status, b, _ := denied(t, h.check(r.checkRequest()))
		if status != c.status || b.Code != "APIG.0303" {
			t.Errorf("%s: got %d %+v", c.name, status, b)
		}
	}
	// AppCode on an API that does not enable it is not an authentication.
	r = envoyRequest{api: "api-app", path: "/pets/1", headers: map[string]string{"X-Apig-AppCode": appCode1}}
	if status, _, _ := denied(t, h.check(r.checkRequest())); status != 401 {
		t.Errorf("AppCode on a signature-only API: %d", status)
	}
}

func TestCustomAppAuthHeader(t *testing.T) {
	cfg := &apigwv1.InstanceConfig{CustomAuthHeader: &apigwv1.CustomAuthHeader{AppAuthHeader: "X-Apig-Sign"}}
	h := newHarness(t, newFixture("", cfg).instance(t))
	r := signed("api-app", "GET", "/pets/7", nil, "", key1, secret1, testNow)
	if status, _, _ := denied(t, h.check(r.checkRequest())); status != 401 {
		t.Errorf("signature in Authorization with a custom header configured: %d", status)
	}
	r.headers["X-Apig-Sign"] = r.headers["Authorization"]
	delete(r.headers, "Authorization")
	allowedResp(t, h.check(r.checkRequest()))
}

// Repeated headers: header_map (encode_raw_headers) keeps the values apart
// as signers sign them; the headers map joins them and the signature fails.
func TestRepeatedSignedHeader(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	hr, _ := http.NewRequest("GET", "https://api.example.com/pets/5", nil)
	hr.Header.Add("X-Multi", "b")
	hr.Header.Add("X-Multi", "a")
	if err := sign.Sign(hr, key1, secret1, testNow); err != nil {
		t.Fatal(err)
	}
	hdrs := map[string]string{}
	for k, v := range hr.Header {
		hdrs[k] = strings.Join(v, "\x00")
	}
	r := envoyRequest{api: "api-app", path: "/pets/5", headers: hdrs, rawHdrs: true}
	allowedResp(t, h.check(r.checkRequest()))
	hdrs["X-Multi"] = "b,a"
	r = envoyRequest{api: "api-app", path: "/pets/5", headers: hdrs}
	if status, _, _ := denied(t, h.check(r.checkRequest())); status != 401 {
		t.Errorf("joined repeated header: %d", status)
	}
}
