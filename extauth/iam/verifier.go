// Package iam verifies IAM tokens (X-Auth-Token) as JWTs against an
// instance's IAM configuration: issuer, audiences and a JWK set given
// inline or fetched from jwks_uri and cached. VerifyJWT, the same
// verification without the IAM account rules, serves jwt_auth plug-ins
// (docs/plugins.md#jwt_auth). The caller's account comes
// from a configurable claim (docs/apig-semantics.md#iam); see
// docs/extauth.md.
package iam

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/jwk"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Identity is the caller a token names.
type Identity struct {
	// AccountID is the value of the account claim (ACL DOMAIN_ID entries,
	// per-user throttling).
	AccountID string
	// AccountName is the value of the account-name claim (ACL DOMAIN
	// entries); empty when the token has none.
	AccountName string
	// Subject is the token's sub claim.
	Subject string
}

// Verification failures.
var (
	ErrNotConfigured = errors.New("IAM authentication is not configured for this instance")
	ErrInvalid       = errors.New("invalid token")
	ErrExpired       = errors.New("token expired")
	ErrUnavailable   = errors.New("the key set could not be fetched")
)

// Algorithms are the JWT signature algorithms accepted.
var algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Leeway is the clock skew tolerated for exp, nbf and iat.
const Leeway = 30 * time.Second

// Verifier verifies tokens. It caches key sets and is safe for concurrent
// use.
type Verifier struct {
	http       *http.Client
	now        func() time.Time
	ttl        time.Duration
	minRefresh time.Duration

	mu     sync.Mutex
	remote map[string]*remoteSet
	inline map[[32]byte][]jwk.Key
}

type remoteSet struct {
	mu      sync.Mutex
	keys    []jwk.Key
	fetched time.Time
	tried   time.Time
}

// NewVerifier returns a verifier fetching key sets with hc
// (http.DefaultClient when nil) and using now as its clock. Fetched sets
// are kept for ttl (10 minutes when 0) and refetched at most every 30 s
// when a token names an unknown key.
func NewVerifier(hc *http.Client, now func() time.Time, ttl time.Duration) *Verifier {
	if hc == nil {
		hc = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	return &Verifier{http: hc, now: now, ttl: ttl, minRefresh: 30 * time.Second,
		remote: map[string]*remoteSet{}, inline: map[[32]byte][]jwk.Key{}}
}

// Config is what VerifyJWT checks a token against.
type Config struct {
	// Jwks is an inline JWK set; JwksURI a URL serving one (fetched and
	// cached). Jwks wins when both are set.
	Jwks, JwksURI string
	// Issuer, when set, must equal the token's iss; the token's aud must
	// contain one of Audiences when there are any.
	Issuer    string
	Audiences []string
	// Leeway is the clock skew tolerated for exp, nbf and iat.
	Leeway time.Duration
	// RequireExp refuses tokens without an exp claim.
	RequireExp bool
}

// Verify checks an IAM token against cfg and returns the caller's
// identity. It fails with ErrNotConfigured, ErrUnavailable, ErrExpired or
// ErrInvalid (possibly wrapped with a detail).
func (v *Verifier) Verify(ctx context.Context, cfg *apigwv1.IamConfig, token string) (Identity, error) {
	token = strings.TrimSpace(token)
	if t, ok := strings.CutPrefix(token, "Bearer "); ok {
		token = strings.TrimSpace(t)
	}
	claims, err := v.VerifyJWT(ctx, Config{Jwks: cfg.GetJwks(), JwksURI: cfg.GetJwksUri(), Issuer: cfg.GetIssuer(),
		Audiences: cfg.GetAudiences(), Leeway: Leeway, RequireExp: true}, token)
	if err != nil {
		return Identity{}, err
	}
	accountClaim := cfg.GetAccountClaim()
	if accountClaim == "" {
		accountClaim = model.DefaultAccountClaim
	}
	nameClaim := cfg.GetAccountNameClaim()
	if nameClaim == "" {
		nameClaim = model.DefaultAccountNameClaim
	}
	id := Identity{AccountID: ClaimString(claims, accountClaim), AccountName: ClaimString(claims, nameClaim), Subject: ClaimString(claims, "sub")}
	if id.AccountID == "" {
		return Identity{}, fmt.Errorf("%w: the token has no %s claim", ErrInvalid, accountClaim)
	}
	return id, nil
}

// VerifyJWT checks a compact JWT (signature by a key of the set, exp and
// nbf with the leeway, issuer, audiences) and returns its claims. It fails
// with ErrNotConfigured (no key set), ErrUnavailable (the set cannot be
// fetched), ErrExpired or ErrInvalid (wrapped with a secret-free detail).
func (v *Verifier) VerifyJWT(ctx context.Context, cfg Config, token string) (map[string]any, error) {
	if cfg.Jwks == "" && cfg.JwksURI == "" {
		return nil, ErrNotConfigured
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(algorithms), jwt.WithTimeFunc(v.now), jwt.WithLeeway(cfg.Leeway)}
	if cfg.RequireExp {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if len(cfg.Audiences) > 0 {
		opts = append(opts, jwt.WithAudience(cfg.Audiences...))
	}
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(opts...).ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		return v.keyFor(ctx, cfg, t)
	})
	switch {
	case err == nil:
		return claims, nil
	case errors.Is(err, ErrUnavailable):
		return nil, ErrUnavailable
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrExpired
	default:
		return nil, fmt.Errorf("%w: %s", ErrInvalid, jwtReason(err))
	}
}

// jwtReason is a short, secret-free description of a parse failure.
func jwtReason(err error) string {
	for _, e := range []error{jwt.ErrTokenMalformed, jwt.ErrTokenSignatureInvalid, jwt.ErrTokenUnverifiable,
		jwt.ErrTokenNotValidYet, jwt.ErrTokenInvalidIssuer, jwt.ErrTokenInvalidAudience, jwt.ErrTokenRequiredClaimMissing,
		jwt.ErrTokenUsedBeforeIssued} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "token is invalid"
}

// ClaimString reads a claim by a dotted path ("domain.id") as a string
// ("" when the claim is missing or is not a string, number or boolean).
func ClaimString(claims map[string]any, path string) string {
	var cur any = map[string]any(claims)
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[part]
	}
	switch c := cur.(type) {
	case string:
		return c
	case float64:
		return strconv.FormatFloat(c, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(c)
	}
	return ""
}

var errNoKey = errors.New("no key matches the token")

func (v *Verifier) keyFor(ctx context.Context, cfg Config, t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	alg := t.Method.Alg()
	if cfg.Jwks != "" {
		keys, err := v.inlineKeys(cfg.Jwks)
		if err != nil {
			return nil, err
		}
		return pick(keys, kid, alg)
	}
	set := v.remoteSet(cfg.JwksURI)
	keys, err := set.get(ctx, v, cfg.JwksURI, false)
	if err != nil {
		return nil, err
	}
	k, err := pick(keys, kid, alg)
	if errors.Is(err, errNoKey) && kid != "" {
		if keys, err2 := set.get(ctx, v, cfg.JwksURI, true); err2 == nil {
			return pick(keys, kid, alg)
		}
	}
	return k, err
}

// pick returns the key with the token's kid, or every key of a compatible
// algorithm when the token names none.
func pick(keys []jwk.Key, kid, alg string) (any, error) {
	var set jwt.VerificationKeySet
	for _, k := range keys {
		if k.Alg != "" && k.Alg != alg {
			continue
		}
		if kid != "" {
			if k.Kid == kid {
				return k.Pub, nil
			}
			continue
		}
		set.Keys = append(set.Keys, k.Pub)
	}
	if len(set.Keys) == 0 {
		return nil, errNoKey
	}
	return set, nil
}

func (v *Verifier) inlineKeys(jwks string) ([]jwk.Key, error) {
	h := sha256.Sum256([]byte(jwks))
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.inline[h]; ok {
		return k, nil
	}
	keys, err := jwk.ParseSet([]byte(jwks))
	if err != nil {
		return nil, err
	}
	if len(v.inline) >= 64 {
		clear(v.inline)
	}
	v.inline[h] = keys
	return keys, nil
}

func (v *Verifier) remoteSet(uri string) *remoteSet {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.remote[uri]
	if s == nil {
		if len(v.remote) >= 64 {
			clear(v.remote)
		}
		s = &remoteSet{}
		v.remote[uri] = s
	}
	return s
}

// get returns the cached keys, fetching them when they are missing, stale
// or (with force) when a token named an unknown key. A failed refresh
// keeps serving the previous keys.
func (s *remoteSet) get(ctx context.Context, v *Verifier, uri string, force bool) ([]jwk.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := v.now()
	fresh := s.keys != nil && now.Sub(s.fetched) < v.ttl
	if fresh && !force {
		return s.keys, nil
	}
	if s.keys != nil && now.Sub(s.tried) < v.minRefresh {
		return s.keys, nil
	}
	s.tried = now
	keys, err := v.fetch(ctx, uri)
	if err != nil {
		if s.keys != nil {
			return s.keys, nil
		}
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	s.keys, s.fetched = keys, now
	return keys, nil
}

func (v *Verifier) fetch(ctx context.Context, uri string) ([]jwk.Key, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", uri, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return jwk.ParseSet(data)
}
