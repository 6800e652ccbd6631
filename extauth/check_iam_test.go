package extauth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/apigw/apigw/dataplane"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func iamSetup(t *testing.T) (*harness, func(claims jwt.MapClaims) string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}}})
	cfg := &apigwv1.InstanceConfig{Iam: &apigwv1.IamConfig{Issuer: "https://iam.example.com", Audiences: []string{"apigw"},
		Jwks: string(jwks), AccountClaim: "domain_id", AccountNameClaim: "domain_name"}}
	h := newHarness(t, newFixture("", cfg).instance(t))
	mint := func(extra jwt.MapClaims) string {
		c := jwt.MapClaims{"iss": "https://iam.example.com", "aud": "apigw", "sub": "u1", "exp": testNow.Add(time.Hour).Unix(),
			"domain_id": "acct-42", "domain_name": "acme"}
		for kk, v := range extra {
			c[kk] = v
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return h, mint
}

func TestIAM(t *testing.T) {
	h, mint := iamSetup(t)
	req := func(api, path, tok string) envoyRequest {
		hdrs := map[string]string{}
		if tok != "" {
			hdrs["X-Auth-Token"] = tok
		}
		return envoyRequest{api: api, path: path, headers: hdrs}
	}
	a := allowedResp(t, h.check(req("api-iam", "/iam", mint(nil)).checkRequest()))
	if a.meta[dataplane.ExtAuthzMetaAccountID] != "acct-42" || a.meta[dataplane.ExtAuthzMetaAccountName] != "acme" || a.headers["x-env"] != "RELEASE" ||
		a.headers["x-api-id"] != "api-iam" || a.meta[dataplane.ExtAuthzMetaBackendPath] != "/iam/%5Bapi%5D%20v1" {
		t.Errorf("meta %v headers %v", a.meta, a.headers)
	}
	if !slices.Contains(a.removed, "x-auth-token") {
		t.Errorf("the IAM token is forwarded to the backend: removed %v", a.removed)
	}
	allowedResp(t, h.check(req("api-iam-acl", "/iam-acl", mint(nil)).checkRequest()))

	cases := []struct {
		name, api, path, tok string
		status               int
		code, typ            string
	}{
		{name: "missing", api: "api-iam", path: "/iam", status: 401, code: "APIG.0301", typ: "AUTH_HEADER_MISSING"},
		{name: "garbage", api: "api-iam", path: "/iam", tok: "abc", status: 401, code: "APIG.0301", typ: "AUTH_FAILURE"},
		{name: "expired", api: "api-iam", path: "/iam", tok: mint(jwt.MapClaims{"exp": testNow.Add(-time.Hour).Unix()}), status: 401, code: "APIG.0307"},
		{name: "wrong-audience", api: "api-iam", path: "/iam", tok: mint(jwt.MapClaims{"aud": "other"}), status: 401, code: "APIG.0301"},
		{name: "account-not-whitelisted", api: "api-iam-acl", path: "/iam-acl", tok: mint(jwt.MapClaims{"domain_id": "acct-99"}), status: 403, code: "APIG.0302"},
		{name: "account-name-blacklisted", api: "api-iam", path: "/iam", tok: mint(jwt.MapClaims{"domain_name": "evil-corp"}), status: 403, code: "APIG.0302"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := h.check(req(c.api, c.path, c.tok).checkRequest())
			status, b, _ := denied(t, resp)
			if status != c.status || b.Code != c.code || (c.typ != "" && metaOf(resp)[dataplane.ExtAuthzMetaErrorType] != c.typ) {
				t.Errorf("got %d %+v %v", status, b, metaOf(resp))
			}
		})
	}
}

func TestIAMNotConfigured(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	status, b, _ := denied(t, h.check(envoyRequest{api: "api-iam", path: "/iam", headers: map[string]string{"X-Auth-Token": "x.y.z"}}.checkRequest()))
	if status != 503 || b.Code != "APIG.0613" {
		t.Errorf("got %d %+v", status, b)
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	allowedResp(t, h.check(signed("api-app", "GET", "/pets/1", nil, "", key1, secret1, testNow).checkRequest()))
	denied(t, h.check(envoyRequest{api: "api-app", path: "/pets/1"}.checkRequest()))
	denied(t, h.check(envoyRequest{api: "nope", path: "/"}.checkRequest()))
	if v := h.counter("apigw_extauth_checks_total", map[string]string{"decision": "allow"}); v != 1 {
		t.Errorf("allow = %v", v)
	}
	if v := h.counter("apigw_extauth_checks_total", map[string]string{"decision": "deny", "reason": "auth_header_missing"}); v != 1 {
		t.Errorf("deny auth_header_missing = %v", v)
	}
	if v := h.counter("apigw_extauth_checks_total", map[string]string{"decision": "deny", "reason": "api_not_found"}); v != 1 {
		t.Errorf("deny api_not_found = %v", v)
	}
	if v := h.counter("apigw_extauth_check_duration_seconds", map[string]string{"decision": "deny"}); v != 2 {
		t.Errorf("deny latency samples = %v", v)
	}
}
