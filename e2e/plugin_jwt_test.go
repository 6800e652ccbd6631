package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A jwt_auth plug-in bound to an API without authentication: Envoy asks
// ext_authz (the translator turns it on for the plug-in), which verifies
// the bearer token, forwards the claim as a header and drops the token.
func TestJWTAuthPluginThroughEnvoy(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.PublicKey.Bytes()
	enc := base64.RawURLEncoding.EncodeToString
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "EC", "kid": "e1", "crv": "P-256", "x": enc(pub[1:33]), "y": enc(pub[33:])}}})
	content, _ := json.Marshal(map[string]any{"jwks": string(jwks), "issuer": "https://idp.example.com",
		"carry_payload": map[string]any{"claims": []any{map[string]any{"claim": "sub", "header": "X-User"}}}})
	quoted, _ := json.Marshal(string(content))
	w := startFS(t, fsGroup+fsAPI("jwt_api", "/jwt", "")+`---
kind: plugin
plugin_name: jwt_users
plugin_type: jwt_auth
plugin_content: `+string(quoted)+`
---
kind: plugin_binding
api_id: jwt_api
env_id: RELEASE
plugin_id: jwt_users
`)
	mint := func(iss string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": iss, "sub": "user-7", "exp": time.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = "e1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	r := w.call(t, call{path: "/jwt", header: http.Header{"Authorization": {"Bearer " + mint("https://idp.example.com")}, "X-User": {"forged"}}})
	wantStatus(t, r, http.StatusOK)
	_, got, ok := w.be.find(r.requestID)
	if !ok {
		t.Fatalf("the request did not reach the backend: %s", r)
	}
	if v := got.Header.Values("X-User"); len(v) != 1 || v[0] != "user-7" {
		t.Errorf("X-User at the backend = %q, want the claim", v)
	}
	if v := got.Header.Get("Authorization"); v != "" {
		t.Errorf("the token reached the backend: %q", v)
	}

	for name, h := range map[string]http.Header{
		"missing":      {},
		"wrong issuer": {"Authorization": {"Bearer " + mint("https://evil.example.com")}},
	} {
		r := w.call(t, call{path: "/jwt", header: h})
		wantStatus(t, r, http.StatusUnauthorized)
		if _, _, ok := w.be.find(r.requestID); ok {
			t.Errorf("%s: a refused request reached the backend", name)
		}
	}
}
