package extauth_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/internal/sdkverify"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// verifyBackendSignature is the backend's side: sdkverify, written from
// the documented algorithm, shares no code with the gateway's signer.
func verifyBackendSignature(method, path, rawQuery string, header func(string) string, authHeader string, secrets map[string]string, now time.Time) (string, error) {
	return sdkverify.Verify(sdkverify.Request{Method: method, Path: path, RawQuery: rawQuery, Header: header}, authHeader, secrets, now)
}

func signFixture(cfg *apigwv1.InstanceConfig, signType, key, secret string) []proto.Message {
	orders := &apigwv1.Api{Id: "orders", Name: "orders", GroupId: "g1", ReqMethod: "GET", ReqUri: "/orders/{id}", AuthType: "NONE", ReqProtocol: "HTTPS",
		ReqParams:  []*apigwv1.ReqParam{{Name: "id", Location: "PATH", Type: "STRING"}, {Name: "drop", Location: "QUERY", Type: "STRING", PassThrough: 2}},
		BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", ReqMethod: "POST", UrlDomain: "10.0.0.1:8080", ReqUri: "/v1/orders/{bid}", Timeout: 3000},
		BackendParams: []*apigwv1.BackendParam{
			{Name: "bid", Location: "PATH", Origin: "REQUEST", Value: "id"},
			{Name: "tenant", Location: "QUERY", Origin: "CONSTANT", Value: "a b"},
			{Name: "x-const", Location: "HEADER", Origin: "CONSTANT", Value: "c1"},
		}}
	mock := &apigwv1.Api{Id: "mock", Name: "mock", GroupId: "g1", ReqMethod: "GET", ReqUri: "/mock", AuthType: "NONE", ReqProtocol: "HTTPS",
		BackendType: "MOCK", MockInfo: &apigwv1.MockInfo{ResultContent: "ok"}}
	return []proto.Message{
		&apigwv1.Instance{Name: model.DefaultInstance, Config: cfg},
		&apigwv1.ApiGroup{Id: "g1", Name: "group1", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}}}, orders, mock,
		&apigwv1.SignatureKey{Id: "sk1", Name: "sig_key", SignType: signType, SignKey: key, SignSecret: secret},
		&apigwv1.SignatureBinding{Id: "sb1", ApiId: "orders", EnvId: model.ReleaseEnvID, SignId: "sk1"},
		&apigwv1.SignatureBinding{Id: "sb2", ApiId: "mock", EnvId: model.ReleaseEnvID, SignId: "sk1"},
	}
}

// The gateway signs the backend request as the backend receives it: the
// backend's method, the backend path, the client's query minus the
// parameters not passed through plus the constants, with X-Sdk-Date and
// an unsigned payload. An independent verifier accepts the signature; a
// changed query or path does not verify.
func TestBackendRequestIsSignedHMAC(t *testing.T) {
	const key, secret = "gw_key_01", "0123456789abcdefXYZ"
	for _, hdrName := range []string{"", "X-Backend-Sign"} {
		cfg := &apigwv1.InstanceConfig{}
		if hdrName != "" {
			cfg.CustomAuthHeader = &apigwv1.CustomAuthHeader{BackendSignHeader: hdrName}
		}
		h := newHarness(t, published(t, model.DefaultInstance, signFixture(cfg, "hmac", key, secret),
			[2]string{"orders", model.ReleaseEnvID}, [2]string{"mock", model.ReleaseEnvID}))
		reqPath := "/orders/a%20b?q=x%20y&q=a&drop=1"
		a := allowedResp(t, h.check(envoyRequest{api: "orders", path: reqPath, headers: map[string]string{"authorization": "Bearer client"}}.checkRequest()))
		authHeader := hdrName
		if authHeader == "" {
			authHeader = "Authorization"
		}
		got := map[string]string{}
		for k, v := range a.headers {
			got[strings.ToLower(k)] = v
		}
		if hdrName != "" {
			if _, ok := got["authorization"]; ok {
				t.Errorf("with backend_sign_header %s the signature must not go into Authorization", hdrName)
			}
		}
		if got["x-sdk-date"] != testNow.Format("20060102T150405Z") {
			t.Errorf("X-Sdk-Date = %q", got["x-sdk-date"])
		}
		up := upstream(t, reqPath, a)
		path, rawQuery, _ := strings.Cut(up, "?")
		if path != "/v1/orders/a%20b" || !strings.Contains(rawQuery, "tenant=") || strings.Contains(rawQuery, "drop") {
			t.Fatalf("upstream %s", up)
		}
		secrets := map[string]string{key: secret}
		lookup := func(n string) string { return got[n] }
		if k, err := verifyBackendSignature("POST", path, rawQuery, lookup, authHeader, secrets, testNow.Add(time.Minute)); err != nil || k != key {
			t.Errorf("header %q: backend verification failed: %v (%s: %s)", authHeader, err, authHeader, got[strings.ToLower(authHeader)])
		}
		if _, err := verifyBackendSignature("POST", path, rawQuery+"&extra=1", lookup, authHeader, secrets, testNow); err == nil {
			t.Error("a changed query must not verify")
		}
		if _, err := verifyBackendSignature("GET", path, rawQuery, lookup, authHeader, secrets, testNow); err == nil {
			t.Error("the client's method must not verify: the backend is called with POST")
		}
		if _, err := verifyBackendSignature("POST", path, rawQuery, lookup, authHeader, map[string]string{key: "another-secret-000"}, testNow); err == nil {
			t.Error("another secret must not verify")
		}
		// A MOCK backend is not called: nothing is signed.
		m := allowedResp(t, h.check(envoyRequest{api: "mock", path: "/mock"}.checkRequest()))
		if _, ok := m.headers["x-sdk-date"]; ok {
			t.Error("a MOCK backend got a signature")
		}
	}
}

func TestBackendRequestBasicAuth(t *testing.T) {
	h := newHarness(t, published(t, model.DefaultInstance, signFixture(&apigwv1.InstanceConfig{}, "basic", "gateway", "pass_word1"),
		[2]string{"orders", model.ReleaseEnvID}))
	a := allowedResp(t, h.check(envoyRequest{api: "orders", path: "/orders/1", headers: map[string]string{"authorization": "Bearer client"}}.checkRequest()))
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("gateway:pass_word1"))
	if a.headers["authorization"] != want {
		t.Errorf("Authorization = %q, want %q", a.headers["authorization"], want)
	}
}

// A backend request that cannot be signed (its path holds an invalid
// escape) is answered with APIG.0705 and the gateway response, and is not
// sent unsigned.
func TestBackendSignFailureAnswers0705(t *testing.T) {
	h := newHarness(t, published(t, model.DefaultInstance, signFixture(&apigwv1.InstanceConfig{}, "hmac", "gw_key_01", "0123456789abcdefXYZ"),
		[2]string{"orders", model.ReleaseEnvID}))
	status, b, _ := denied(t, h.check(envoyRequest{api: "orders", path: "/orders/%zz"}.checkRequest()))
	if status != 500 || b.Code != "APIG.0705" {
		t.Errorf("got %d %s (%s), want 500 APIG.0705", status, b.Code, b.Msg)
	}
}

// BenchmarkBackendSign measures the in-process Check of the same API with
// and without a bound signature key, side by side. Run with
//
//	go test ./extauth -run '^$' -bench BenchmarkBackendSign -benchmem
func BenchmarkBackendSign(b *testing.B) {
	signedObjs := signFixture(&apigwv1.InstanceConfig{}, "hmac", "gw_key_01", "0123456789abcdefXYZ")
	var plainObjs []proto.Message
	for _, o := range signedObjs {
		if _, ok := o.(*apigwv1.SignatureBinding); !ok {
			plainObjs = append(plainObjs, o)
		}
	}
	req := envoyRequest{api: "orders", path: "/orders/a%20b?q=x%20y&q=a&drop=1"}.checkRequest()
	for _, c := range []struct {
		name string
		objs []proto.Message
	}{{"unsigned", plainObjs}, {"hmac_signed", signedObjs}} {
		b.Run(c.name, func(b *testing.B) {
			h := newHarness(b, published(b, model.DefaultInstance, c.objs, [2]string{"orders", model.ReleaseEnvID}))
			ctx := context.Background()
			if resp, err := h.srv.Check(ctx, req); err != nil || resp.GetStatus().GetCode() != 0 {
				b.Fatalf("not allowed: %v %v", err, resp)
			}
			b.ReportAllocs()
			for b.Loop() {
				h.srv.Check(ctx, req)
			}
		})
	}
}
