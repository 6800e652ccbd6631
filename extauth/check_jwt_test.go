package extauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type jwtWorld struct {
	h       *harness
	rsaKey  *rsa.PrivateKey
	ecKey   *ecdsa.PrivateKey
	fetches *atomic.Int32
}

// mint signs claims (merged over a valid default set) with the RSA key
// (kid k1) or, with ec, the EC key served by the key service (kid e1).
func (w *jwtWorld) mint(t *testing.T, ec bool, extra jwt.MapClaims) string {
	t.Helper()
	c := jwt.MapClaims{"iss": "https://idp.example.com", "aud": "shop", "sub": "user-7", "exp": testNow.Add(time.Hour).Unix(),
		"realm": map[string]any{"role": "admin"}, "groups": []any{"a", "b"}, "n": 42}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	var s string
	var err error
	if ec {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
		tok.Header["kid"] = "e1"
		s, err = tok.SignedString(w.ecKey)
	} else {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = "k1"
		s, err = tok.SignedString(w.rsaKey)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jwtSetup(t *testing.T) *jwtWorld {
	t.Helper()
	w := &jwtWorld{fetches: &atomic.Int32{}}
	var err error
	if w.rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if w.ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	inline, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "n": enc(w.rsaKey.N.Bytes()), "e": enc(big.NewInt(int64(w.rsaKey.E)).Bytes())}}})
	ecPub, _ := w.ecKey.PublicKey.Bytes() // 0x04 || X || Y
	served, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "EC", "kid": "e1", "crv": "P-256", "x": enc(ecPub[1:33]), "y": enc(ecPub[33:])}}})
	ks := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.fetches.Add(1)
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write(served)
	}))
	t.Cleanup(ks.Close)

	content := func(v map[string]any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	f := newFixture("", nil)
	f.api(&apigwv1.Api{Id: "api-jwt", Name: "jwt_header", ReqUri: "/jwt"}, model.ReleaseEnvID, envTest)
	f.api(&apigwv1.Api{Id: "api-jwt-q", Name: "jwt_query", ReqUri: "/jwt-q"})
	f.api(&apigwv1.Api{Id: "api-jwt-c", Name: "jwt_cookie", ReqUri: "/jwt-c"})
	f.api(&apigwv1.Api{Id: "api-jwt-down", Name: "jwt_down", ReqUri: "/jwt-down"})
	// A response set customizes JWT_AUTH_FAILURE.
	f.add(&apigwv1.GatewayResponse{Id: "resp-jwt", GroupId: "g1", Name: "jwt", Responses: map[string]*apigwv1.ResponseInfo{
		"JWT_AUTH_FAILURE": {Status: 403, Body: `{"jwt":"$context.error.message"}`}}})
	f.api(&apigwv1.Api{Id: "api-jwt-resp", Name: "jwt_resp", ReqUri: "/jwt-resp", ResponseId: "resp-jwt"})
	f.add(
		&apigwv1.Plugin{Id: "pj-h", PluginName: "jwt_header", PluginType: model.PluginJWTAuth, PluginContent: content(map[string]any{
			"jwks": string(inline), "issuer": "https://idp.example.com", "audiences": []string{"shop", "admin"},
			"carry_payload": map[string]any{"claims": []any{
				map[string]any{"claim": "sub", "header": "X-User"},
				map[string]any{"claim": "realm.role", "header": "X-Role"},
				map[string]any{"claim": "groups", "header": "X-Groups"},
				map[string]any{"claim": "n", "header": "X-N"},
				map[string]any{"claim": "email", "header": "X-Email"},
			}}})},
		// The key service wins over the inline set (which would verify the
		// RSA tokens): only EC tokens pass.
		&apigwv1.Plugin{Id: "pj-q", PluginName: "jwt_query", PluginType: model.PluginJWTAuth, PluginContent: content(map[string]any{
			"jwks_service": map[string]any{"url": ks.URL + "/jwks"}, "jwks": string(inline),
			"token_location": "query", "token_expiration_tolerance": "120"})},
		&apigwv1.Plugin{Id: "pj-c", PluginName: "jwt_cookie", PluginType: model.PluginJWTAuth, PluginContent: content(map[string]any{
			"jwks": string(inline), "token_location": "cookie", "token_name": "sess", "token_pass_through_enabled": true})},
		&apigwv1.Plugin{Id: "pj-down", PluginName: "jwt_down", PluginType: model.PluginJWTAuth, PluginContent: content(map[string]any{
			"jwks_service": map[string]any{"url": "http://127.0.0.1:1/jwks"}})},
		&apigwv1.PluginBinding{Id: "pb-h", ApiId: "api-jwt", EnvId: model.ReleaseEnvID, PluginId: "pj-h"},
		&apigwv1.PluginBinding{Id: "pb-q", ApiId: "api-jwt-q", EnvId: model.ReleaseEnvID, PluginId: "pj-q"},
		&apigwv1.PluginBinding{Id: "pb-c", ApiId: "api-jwt-c", EnvId: model.ReleaseEnvID, PluginId: "pj-c"},
		&apigwv1.PluginBinding{Id: "pb-resp", ApiId: "api-jwt-resp", EnvId: model.ReleaseEnvID, PluginId: "pj-h"},
		&apigwv1.PluginBinding{Id: "pb-down", ApiId: "api-jwt-down", EnvId: model.ReleaseEnvID, PluginId: "pj-down"},
	)
	w.h = newHarness(t, f.instance(t))
	return w
}

func TestJWTAuthPluginAllows(t *testing.T) {
	w := jwtSetup(t)
	a := allowedResp(t, w.h.check(envoyRequest{api: "api-jwt", path: "/jwt", headers: map[string]string{
		"Authorization": "Bearer " + w.mint(t, false, nil), "X-Email": "forged@example.com"}}.checkRequest()))
	want := map[string]string{"x-user": "user-7", "x-role": "admin", "x-groups": `["a","b"]`, "x-n": "42"}
	for k, v := range want {
		if a.headers[k] != v {
			t.Errorf("claim header %s = %q, want %q (headers %v)", k, a.headers[k], v, a.headers)
		}
	}
	if !slices.Contains(a.removed, "authorization") {
		t.Errorf("the token is forwarded to the backend: removed %v", a.removed)
	}
	if _, set := a.headers["x-email"]; set || !slices.Contains(a.removed, "x-email") {
		t.Errorf("a claim the token lacks must remove the client's header: headers %v removed %v", a.headers, a.removed)
	}
	// The second audience is accepted; the prefix is case-insensitive.
	allowedResp(t, w.h.check(envoyRequest{api: "api-jwt", path: "/jwt", headers: map[string]string{
		"Authorization": "bearer " + w.mint(t, false, jwt.MapClaims{"aud": []string{"other", "admin"}})}}.checkRequest()))
	// As in APIG, exp is checked when present: a token without one passes.
	allowedResp(t, w.h.check(envoyRequest{api: "api-jwt", path: "/jwt", headers: map[string]string{
		"Authorization": "Bearer " + w.mint(t, false, jwt.MapClaims{"exp": nil})}}.checkRequest()))
	// Bound in RELEASE only: TEST needs no token.
	allowedResp(t, w.h.check(envoyRequest{api: "api-jwt", env: envTest, path: "/jwt"}.checkRequest()))

	// Query token from the key service, removed from the backend request;
	// the tolerance admits a token expired 60 s ago.
	a = allowedResp(t, w.h.check(envoyRequest{api: "api-jwt-q", path: "/jwt-q?x=1&access_token=" + w.mint(t, true, jwt.MapClaims{"exp": testNow.Add(-time.Minute).Unix()})}.checkRequest()))
	if !slices.Contains(a.queryRm, "access_token") {
		t.Errorf("query token kept: removed %v", a.queryRm)
	}
	allowedResp(t, w.h.check(envoyRequest{api: "api-jwt-q", path: "/jwt-q?access_token=" + w.mint(t, true, nil)}.checkRequest()))
	if n := w.fetches.Load(); n != 1 {
		t.Errorf("the key set was fetched %d times, want 1 (cached)", n)
	}

	// Cookie token passed through (the cookie header is left alone).
	a = allowedResp(t, w.h.check(envoyRequest{api: "api-jwt-c", path: "/jwt-c", headers: map[string]string{
		"Cookie": "theme=dark; sess=" + w.mint(t, false, nil)}}.checkRequest()))
	if slices.Contains(a.removed, "cookie") || a.headers["cookie"] != "" {
		t.Errorf("token_pass_through_enabled: the cookie was changed: headers %v removed %v", a.headers, a.removed)
	}
}

func TestJWTAuthPluginDenies(t *testing.T) {
	w := jwtSetup(t)
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	// A token signed by another key with the same kid.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "https://idp.example.com", "aud": "shop", "exp": testNow.Add(time.Hour).Unix()})
	forged.Header["kid"] = "k1"
	forgedTok, _ := forged.SignedString(other)
	// alg none is never accepted.
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": "https://idp.example.com", "aud": "shop"})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)

	cases := []struct {
		name, api, path string
		headers         map[string]string
		status          int
		code, typ       string
	}{
		{name: "missing", api: "api-jwt", path: "/jwt"},
		{name: "no prefix", api: "api-jwt", path: "/jwt", headers: map[string]string{"Authorization": w.mint(t, false, nil)}},
		{name: "garbage", api: "api-jwt", path: "/jwt", headers: bearer("abc.def.ghi")},
		{name: "expired", api: "api-jwt", path: "/jwt", headers: bearer(w.mint(t, false, jwt.MapClaims{"exp": testNow.Add(-time.Minute).Unix()}))},
		{name: "not yet valid", api: "api-jwt", path: "/jwt", headers: bearer(w.mint(t, false, jwt.MapClaims{"nbf": testNow.Add(time.Hour).Unix()}))},
		{name: "wrong issuer", api: "api-jwt", path: "/jwt", headers: bearer(w.mint(t, false, jwt.MapClaims{"iss": "https://evil.example.com"}))},
		{name: "wrong audience", api: "api-jwt", path: "/jwt", headers: bearer(w.mint(t, false, jwt.MapClaims{"aud": "other"}))},
		{name: "no audience", api: "api-jwt", path: "/jwt", headers: bearer(w.mint(t, false, jwt.MapClaims{"aud": nil}))},
		{name: "bad signature", api: "api-jwt", path: "/jwt", headers: bearer(forgedTok)},
		{name: "alg none", api: "api-jwt", path: "/jwt", headers: bearer(noneTok)},
		{name: "token in the wrong place", api: "api-jwt-q", path: "/jwt-q", headers: bearer(w.mint(t, true, nil))},
		// The key service wins over the inline set: an RSA token fails.
		{name: "inline key ignored", api: "api-jwt-q", path: "/jwt-q?access_token=" + w.mint(t, false, nil)},
		{name: "beyond tolerance", api: "api-jwt-q", path: "/jwt-q?access_token=" + w.mint(t, true, jwt.MapClaims{"exp": testNow.Add(-3 * time.Minute).Unix()})},
		{name: "cookie missing", api: "api-jwt-c", path: "/jwt-c", headers: map[string]string{"Cookie": "theme=dark"}},
		{name: "key service down", api: "api-jwt-down", path: "/jwt-down", headers: bearer(w.mint(t, false, nil)), status: 500, code: "APIG.0601", typ: "DEFAULT_5XX"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.status == 0 {
				c.status, c.code, c.typ = 401, "APIG.0305", "JWT_AUTH_FAILURE"
			}
			resp := w.h.check(envoyRequest{api: c.api, path: c.path, headers: c.headers}.checkRequest())
			status, b, _ := denied(t, resp)
			if status != c.status || b.Code != c.code || metaOf(resp)[dataplane.ExtAuthzMetaErrorType] != c.typ {
				t.Errorf("got %d %+v %v", status, b, metaOf(resp))
			}
		})
	}
	d := w.h.check(envoyRequest{api: "api-jwt-resp", path: "/jwt-resp"}.checkRequest()).GetDeniedResponse()
	if d.GetStatus().GetCode() != 403 || d.GetBody() != `{"jwt":"Incorrect authentication information: JWT verification failed: the token is missing"}` {
		t.Errorf("customized JWT_AUTH_FAILURE: %d %s", d.GetStatus().GetCode(), d.GetBody())
	}
	if v := w.h.counter("apigw_extauth_checks_total", map[string]string{"decision": "deny", "reason": "jwt_token_expired"}); v != 2 { // expired, beyond tolerance
		t.Errorf("deny jwt_token_expired = %v", v)
	}
}
