package iam_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/extauth/iam"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

type keys struct {
	rsa1, rsa2 *rsa.PrivateKey
	ec         *ecdsa.PrivateKey
}

func getKeys(t *testing.T) keys {
	t.Helper()
	r1, err1 := rsa.GenerateKey(rand.Reader, 2048)
	r2, err2 := rsa.GenerateKey(rand.Reader, 2048)
	ec, err3 := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	return keys{r1, r2, ec}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PrivateKey) map[string]any {
	pub, _ := k.PublicKey.Bytes() // 0x04 || X || Y
	return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(pub[1:33]), "y": b64(pub[33:])}
}

func jwks(ks ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"keys": ks})
	return string(b)
}

func token(t *testing.T, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(extra map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{"iss": "https://iam.example.com", "aud": "apigw", "sub": "user-1",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Add(-time.Minute).Unix(), "account": "acct-42", "name": "acme",
		"domain": map[string]any{"id": "d-7", "name": "acme-domain"}}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func TestVerifyInline(t *testing.T) {
	k := getKeys(t)
	cfg := &apigwv1.IamConfig{Issuer: "https://iam.example.com", Audiences: []string{"apigw", "other"},
		Jwks: jwks(rsaJWK("r1", &k.rsa1.PublicKey), ecJWK("e1", k.ec)), AccountClaim: "account", AccountNameClaim: "name"}
	v := iam.NewVerifier(nil, clock, 0)
	ctx := context.Background()
	cases := []struct {
		name    string
		tok     string
		cfg     func(c *apigwv1.IamConfig)
		want    error
		account string
		accName string
	}{
		{name: "rsa", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(nil)), account: "acct-42", accName: "acme"},
		{name: "ec-no-kid", tok: token(t, jwt.SigningMethodES256, "", k.ec, claims(nil)), account: "acct-42", accName: "acme"},
		{name: "bearer-prefix", tok: "Bearer " + token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(nil)), account: "acct-42", accName: "acme"},
		{name: "nested-claims", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(nil)), account: "d-7", accName: "acme-domain",
			cfg: func(c *apigwv1.IamConfig) { c.AccountClaim, c.AccountNameClaim = "domain.id", "domain.name" }},
		{name: "default-claims", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(nil)), account: "user-1", accName: "acme",
			cfg: func(c *apigwv1.IamConfig) { c.AccountClaim, c.AccountNameClaim = "", "" }},
		{name: "expired", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(map[string]any{"exp": now.Add(-time.Minute).Unix()})), want: iam.ErrExpired},
		{name: "no-exp", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(map[string]any{"exp": nil})), want: iam.ErrInvalid},
		{name: "not-yet-valid", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(map[string]any{"nbf": now.Add(time.Hour).Unix()})), want: iam.ErrInvalid},
		{name: "wrong-issuer", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(map[string]any{"iss": "https://evil"})), want: iam.ErrInvalid},
		{name: "wrong-audience", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(map[string]any{"aud": "x"})), want: iam.ErrInvalid},
		{name: "other-key", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa2, claims(nil)), want: iam.ErrInvalid},
		{name: "unknown-kid", tok: token(t, jwt.SigningMethodRS256, "zz", k.rsa1, claims(nil)), want: iam.ErrInvalid},
		{name: "hs256-rejected", tok: token(t, jwt.SigningMethodHS256, "r1", []byte("secret"), claims(nil)), want: iam.ErrInvalid},
		{name: "alg-none", tok: token(t, jwt.SigningMethodNone, "", jwt.UnsafeAllowNoneSignatureType, claims(nil)), want: iam.ErrInvalid},
		{name: "garbage", tok: "not.a.token", want: iam.ErrInvalid},
		{name: "no-account", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(map[string]any{"account": nil})), want: iam.ErrInvalid},
		{name: "not-configured", tok: token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(nil)), want: iam.ErrNotConfigured,
			cfg: func(c *apigwv1.IamConfig) { c.Jwks = "" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := proto.Clone(cfg).(*apigwv1.IamConfig)
			if c.cfg != nil {
				c.cfg(cc)
			}
			id, err := v.Verify(ctx, cc, c.tok)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("got %+v, %v; want %v", id, err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.AccountID != c.account || id.AccountName != c.accName || id.Subject != "user-1" {
				t.Errorf("identity %+v", id)
			}
		})
	}
}

func TestVerifyRemoteRotationAndOutage(t *testing.T) {
	k := getKeys(t)
	var mu sync.Mutex
	set := jwks(rsaJWK("r1", &k.rsa1.PublicKey))
	var fetches atomic.Int32
	down := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		w.Write([]byte(set))
	}))
	t.Cleanup(srv.Close)
	cur := now
	var cmu sync.Mutex
	clk := func() time.Time { cmu.Lock(); defer cmu.Unlock(); return cur }
	advance := func(d time.Duration) { cmu.Lock(); cur = cur.Add(d); cmu.Unlock() }
	v := iam.NewVerifier(srv.Client(), clk, time.Hour)
	cfg := &apigwv1.IamConfig{JwksUri: srv.URL, AccountClaim: "account"}
	ctx := context.Background()

	if _, err := v.Verify(ctx, cfg, token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(nil))); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, cfg, token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(nil))); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1 (cached)", n)
	}
	// Key rotation: a new kid triggers one refetch (after the refresh floor).
	mu.Lock()
	set = jwks(rsaJWK("r1", &k.rsa1.PublicKey), rsaJWK("r2", &k.rsa2.PublicKey))
	mu.Unlock()
	advance(time.Minute)
	if _, err := v.Verify(ctx, cfg, token(t, jwt.SigningMethodRS256, "r2", k.rsa2, claims(nil))); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	// An outage keeps serving the cached keys.
	down.Store(true)
	advance(2 * time.Hour)
	if _, err := v.Verify(ctx, cfg, token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(map[string]any{"exp": clk().Add(time.Hour).Unix()}))); err != nil {
		t.Fatalf("stale keys during outage: %v", err)
	}
	// Without any keys the verifier is unavailable.
	v2 := iam.NewVerifier(srv.Client(), clk, time.Hour)
	if _, err := v2.Verify(ctx, cfg, token(t, jwt.SigningMethodRS256, "r1", k.rsa1, claims(nil))); !errors.Is(err, iam.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
}
