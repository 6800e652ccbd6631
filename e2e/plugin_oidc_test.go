package e2e

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// oidcProvider is a loopback OpenID provider: /authorize hands out a code
// bound to the client, redirect_uri and PKCE challenge and sends the
// browser back with the state; /token exchanges it (client_secret_post)
// or a refresh token.
type oidcProvider struct {
	srv *httptest.Server

	mu        sync.Mutex
	clientID  string
	secret    string // what /token accepts
	expiresIn int    // of the tokens it issues (0: no expires_in)
	codes     map[string]oidcGrant
	refreshes map[string]bool
	n         int
	tokenReqs []url.Values
}

type oidcGrant struct{ redirectURI, challenge string }

func newOIDCProvider(t *testing.T, clientID, secret string) *oidcProvider {
	t.Helper()
	p := &oidcProvider{clientID: clientID, secret: secret, expiresIn: 3600, codes: map[string]oidcGrant{}, refreshes: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("client_id") != p.clientID || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
			http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.n++
		code := fmt.Sprintf("code-%d", p.n)
		p.codes[code] = oidcGrant{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge")}
		p.mu.Unlock()
		back := q.Get("redirect_uri") + "?code=" + url.QueryEscape(code) + "&state=" + url.QueryEscape(q.Get("state"))
		http.Redirect(w, r, back, http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f := r.PostForm
		p.mu.Lock()
		defer p.mu.Unlock()
		p.tokenReqs = append(p.tokenReqs, f)
		if f.Get("client_id") != p.clientID || f.Get("client_secret") != p.secret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		switch f.Get("grant_type") {
		case "authorization_code":
			g, ok := p.codes[f.Get("code")]
			delete(p.codes, f.Get("code"))
			sum := sha256.Sum256([]byte(f.Get("code_verifier")))
			if !ok || g.redirectURI != f.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
				return
			}
		case "refresh_token":
			if !p.refreshes[f.Get("refresh_token")] {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
				return
			}
			delete(p.refreshes, f.Get("refresh_token"))
		default:
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		p.n++
		refresh := fmt.Sprintf("refresh-%d", p.n)
		p.refreshes[refresh] = true
		w.Header().Set("Content-Type", "application/json")
		answer := map[string]any{"access_token": fmt.Sprintf("access-%d", p.n), "id_token": fmt.Sprintf("id-%d", p.n),
			"refresh_token": refresh, "token_type": "Bearer"}
		if p.expiresIn > 0 {
			answer["expires_in"] = p.expiresIn
		}
		_ = json.NewEncoder(w).Encode(answer)
	})
	p.srv = httptest.NewTLSServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *oidcProvider) set(f func(p *oidcProvider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *oidcProvider) lastTokenRequest() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tokenReqs) == 0 {
		return nil
	}
	return p.tokenReqs[len(p.tokenReqs)-1]
}

// caFile writes the provider's certificate as the CA bundle Envoy
// verifies the token endpoint with (--upstream-ca-file).
func (p *oidcProvider) caFile(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "idp-ca.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// authorize plays the browser at the provider: it follows Envoy's
// redirect and returns where the provider sends it back.
func (p *oidcProvider) authorize(t *testing.T, location string) *url.URL {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(p.srv.Certificate())
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(location)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider /authorize: %d", resp.StatusCode)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// cookieJar is the browser's cookies for the gateway's host.
type cookieJar map[string]string

func (j cookieJar) update(t *testing.T, h http.Header) {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.MaxAge < 0 || !c.Expires.IsZero() && c.Expires.Before(time.Now()) {
			delete(j, c.Name)
			continue
		}
		j[c.Name] = c.Value
	}
}

func (j cookieJar) header() http.Header {
	var parts []string
	for k, v := range j {
		parts = append(parts, k+"="+v)
	}
	h := http.Header{}
	if len(parts) > 0 {
		h.Set("Cookie", strings.Join(parts, "; "))
	}
	return h
}

func (j cookieJar) clone() cookieJar {
	out := cookieJar{}
	for k, v := range j {
		out[k] = v
	}
	return out
}

const oidcClientSecret = "e2e-client-secret"

// oidcManifest binds an oidc_auth plug-in to /app (prefix, any method);
// /open is not bound.
func oidcManifest(p *oidcProvider) string {
	api := `---
kind: api
name: oidc_api
group_id: failsafe
req_protocol: BOTH
req_method: ANY
req_uri: /app
match_mode: SWA
auth_type: NONE
backend_api: {req_protocol: HTTP, req_method: ANY, url_domain: "{release}", req_uri: /app, timeout: 5000}
`
	content, _ := json.Marshal(map[string]any{"client_id": "web", "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
		"redirect_uri": "https://" + fsHost + "/app/callback", "scope": "openid profile", "logout_path": "/app/logout", "refresh_token_enabled": true,
		"forward_access_token": true, "pass_through_methods": []string{"OPTIONS"},
		"access_token_expires_in": 600, "jwt_cache_enabled": true})
	return fsGroup + api + fsAPI("open_api", "/open", "") + `---
kind: plugin
plugin_name: oidc_web
plugin_type: oidc_auth
client_secret: ` + oidcClientSecret + `
plugin_content: '` + string(content) + `'
---
kind: plugin_binding
api_id: oidc_api
env_id: RELEASE
plugin_id: oidc_web
`
}

// The OpenID Connect code flow of an oidc_auth plug-in, run by the
// emulator's oauth2 filter from the configuration and SDS secrets apigw
// sent it, against a loopback provider.
func TestOIDCAuthCodeFlowThroughEnvoy(t *testing.T) {
	p := newOIDCProvider(t, "web", oidcClientSecret)
	w := &fsWorld{g: startAPIGW(t, "--upstream-ca-file", p.caFile(t)), be: newBackends(t)}
	w.apply(t, oidcManifest(p))
	w.publish(t)
	runOIDCFlow(t, w, simGateway{w.envoy}, p)
}

// The same flow through a real Envoy (ENVOY_BIN): what the emulator
// cannot show — Envoy's own reading of the configuration, its TLS to the
// token endpoint, its cookie attributes as browsers get them.
func TestOIDCAuthCodeFlowRealEnvoy(t *testing.T) {
	bin := os.Getenv("ENVOY_BIN")
	if bin == "" {
		t.Skip("ENVOY_BIN is not set: the oidc_auth code flow through a real Envoy needs an Envoy 1.37+ binary (ENVOY_BIN=/path/to/envoy go test ./e2e -run TestOIDCAuthCodeFlowRealEnvoy); TestOIDCAuthCodeFlowThroughEnvoy runs it through the emulator")
	}
	p := newOIDCProvider(t, "web", oidcClientSecret)
	w := &fsWorld{g: startAPIGW(t, "--upstream-ca-file", p.caFile(t)), be: newBackends(t)}
	w.apply(t, oidcManifest(p))
	w.g.apigctl(t, "publish", "--all", "--group", "failsafe")
	startEnvoy(t, bin, w.g, "e2e-real-envoy-oidc")
	gw := newEnvoyGateway(t, w.g)
	eventually(t, 60*time.Second, func() error {
		r, err := try(t, gw, call{path: "/open", host: fsHost})
		if err != nil {
			return err
		}
		if r.status != http.StatusOK {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
	runOIDCFlow(t, w, gw, p)
}

func runOIDCFlow(t *testing.T, w *fsWorld, gw gateway, p *oidcProvider) {
	t.Helper()
	send := func(method, path string, jar cookieJar, extra http.Header) *result {
		t.Helper()
		h := jar.header()
		for k, v := range extra {
			h[k] = v
		}
		return do(t, gw, call{method: method, path: path, host: fsHost, header: h})
	}
	wantStatus(t, send("GET", "/open", nil, nil), http.StatusOK)

	// 1. No session: 302 to the provider with the flow's parameters.
	jar := cookieJar{}
	r := send("GET", "/app/page?x=1", jar, nil)
	wantStatus(t, r, http.StatusFound)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != p.srv.URL+"/authorize" {
		t.Fatalf("redirected to %s", got)
	}
	for k, v := range map[string]string{"client_id": "web", "response_type": "code", "scope": "openid profile",
		"redirect_uri": "https://" + fsHost + "/app/callback", "code_challenge_method": "S256"} {
		if q.Get(k) != v {
			t.Errorf("authorization request %s = %q, want %q (%s)", k, q.Get(k), v, loc.RawQuery)
		}
	}
	rawState, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(q.Get("state"), "="))
	if err != nil {
		t.Fatalf("state %q: %v", q.Get("state"), err)
	}
	var state struct{ URL, CSRFToken, FlowID string }
	if err := json.Unmarshal(rawState, &struct {
		URL       *string `json:"url"`
		CSRFToken *string `json:"csrf_token"`
		FlowID    *string `json:"flow_id"`
	}{&state.URL, &state.CSRFToken, &state.FlowID}); err != nil {
		t.Fatalf("state %s: %v", rawState, err)
	}
	if state.URL != "http://"+fsHost+"/app/page?x=1" || !strings.HasPrefix(state.CSRFToken, state.FlowID+".") {
		t.Fatalf("state %s", rawState)
	}
	jar.update(t, r.header)
	prefix := ""
	for k := range jar {
		if strings.HasSuffix(k, "-OauthNonce") {
			prefix = strings.TrimSuffix(k, "OauthNonce")
		}
	}
	if prefix == "" || jar[prefix+"OauthNonce"] != state.CSRFToken || jar[prefix+"CodeVerifier"] == "" {
		t.Fatalf("flow cookies %v", jar)
	}

	// A forged state (another CSRF token) is refused.
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"url":"http://` + fsHost + `/app/page","csrf_token":"0000000000000000.AAAA","flow_id":"0000000000000000"}`))
	r = send("GET", "/app/callback?code=x&state="+forged, jar, nil)
	wantStatus(t, r, http.StatusUnauthorized)
	if string(r.body) != "OAuth flow failed." {
		t.Errorf("forged state: %s", r)
	}
	// The provider's error answer is a failure too.
	r = send("GET", "/app/callback?error=access_denied&state="+q.Get("state"), jar.clone(), nil)
	wantStatus(t, r, http.StatusUnauthorized)

	// 2. The provider sends the browser back; Envoy exchanges the code.
	back := p.authorize(t, loc.String())
	if back.Host != fsHost || back.Path != "/app/callback" {
		t.Fatalf("provider sent the browser to %s", back)
	}
	r = send("GET", back.RequestURI(), jar, nil)
	wantStatus(t, r, http.StatusFound)
	if r.header.Get("Location") != "http://"+fsHost+"/app/page?x=1" {
		t.Fatalf("after the exchange: Location %q", r.header.Get("Location"))
	}
	tr := p.lastTokenRequest()
	if tr.Get("grant_type") != "authorization_code" || tr.Get("client_secret") != oidcClientSecret || tr.Get("redirect_uri") != "https://"+fsHost+"/app/callback" {
		t.Errorf("token request %v", tr)
	}
	jar.update(t, r.header)
	for _, n := range []string{"BearerToken", "OauthHMAC", "OauthExpires", "IdToken", "RefreshToken"} {
		if jar[prefix+n] == "" {
			t.Errorf("no %s cookie after the exchange: %v", n, r.header.Values("Set-Cookie"))
		}
	}
	if _, ok := jar[prefix+"OauthNonce"]; ok {
		t.Errorf("the nonce cookie outlived the flow: %v", r.header.Values("Set-Cookie"))
	}
	for _, line := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(line, prefix+"BearerToken=") && (!strings.Contains(line, "HttpOnly") || !strings.Contains(strings.ToLower(line), "secure")) {
			t.Errorf("session cookie without HttpOnly; Secure: %s", line)
		}
	}
	if strings.Contains(jar[prefix+"BearerToken"], "access-") {
		t.Errorf("the access token is not encrypted in its cookie: %s", jar[prefix+"BearerToken"])
	}

	// 3. With the session the request reaches the backend, with the access
	// token as bearer token (a client's own Authorization is dropped).
	r = send("GET", "/app/page?x=1", jar, http.Header{"Authorization": {"Bearer forged"}})
	wantStatus(t, r, http.StatusOK)
	got := backendGot(t, w, r)
	access := got.Header.Get("Authorization")
	if !strings.HasPrefix(access, "Bearer access-") {
		t.Errorf("backend Authorization %q", access)
	}
	cookies := got.Header.Get("Cookie")
	if !strings.Contains(cookies, prefix+"BearerToken="+strings.TrimPrefix(access, "Bearer ")) || strings.Contains(cookies, "OauthHMAC") || strings.Contains(cookies, "RefreshToken") {
		t.Errorf("backend Cookie %q", cookies)
	}

	// 4. A tampered HMAC cookie is no session: back to the provider.
	bad := jar.clone()
	bad[prefix+"OauthHMAC"] = "AAAA" + bad[prefix+"OauthHMAC"][4:]
	delete(bad, prefix+"RefreshToken") // else Envoy would renew the tokens
	r = send("GET", "/app/page", bad, nil)
	wantStatus(t, r, http.StatusFound)
	if !strings.HasPrefix(r.header.Get("Location"), p.srv.URL+"/authorize?") {
		t.Errorf("tampered HMAC: Location %q", r.header.Get("Location"))
	}
	// Likewise a pushed-back expiry.
	bad = jar.clone()
	bad[prefix+"OauthExpires"] = "9999999999"
	delete(bad, prefix+"RefreshToken")
	wantStatus(t, send("GET", "/app/page", bad, nil), http.StatusFound)

	// 5. Pass-through methods skip the filter.
	wantStatus(t, send("OPTIONS", "/app/page", nil, nil), http.StatusOK)

	// 6. An expired session is renewed with the refresh token.
	p.set(func(p *oidcProvider) { p.expiresIn = 1 })
	j2 := cookieJar{}
	r = send("GET", "/app/short", j2, nil)
	j2.update(t, r.header)
	r = send("GET", p.authorize(t, r.header.Get("Location")).RequestURI(), j2, nil)
	wantStatus(t, r, http.StatusFound)
	j2.update(t, r.header)
	p.set(func(p *oidcProvider) { p.expiresIn = 3600 })
	time.Sleep(2100 * time.Millisecond)
	r = send("GET", "/app/short", j2, nil)
	wantStatus(t, r, http.StatusOK)
	if tr := p.lastTokenRequest(); tr.Get("grant_type") != "refresh_token" {
		t.Errorf("expired session: last token request %v", tr)
	}
	if a := backendGot(t, w, r).Header.Get("Authorization"); a == "" || a == access {
		t.Errorf("after the refresh the backend got Authorization %q", a)
	}
	j2.update(t, r.header)
	wantStatus(t, send("GET", "/app/short", j2, nil), http.StatusOK)

	// 7. A wrong client secret at the token endpoint fails the flow.
	p.set(func(p *oidcProvider) { p.secret = "another-secret" })
	j3 := cookieJar{}
	r = send("GET", "/app/page", j3, nil)
	j3.update(t, r.header)
	r = send("GET", p.authorize(t, r.header.Get("Location")).RequestURI(), j3, nil)
	wantStatus(t, r, http.StatusUnauthorized)
	if string(r.body) != "OAuth flow failed." {
		t.Errorf("wrong client secret: %s", r)
	}
	p.set(func(p *oidcProvider) { p.secret = oidcClientSecret })

	// A token answer without expires_in: access_token_expires_in applies.
	p.set(func(p *oidcProvider) { p.expiresIn = 0 })
	j4 := cookieJar{}
	r = send("GET", "/app/page", j4, nil)
	j4.update(t, r.header)
	r = send("GET", p.authorize(t, r.header.Get("Location")).RequestURI(), j4, nil)
	wantStatus(t, r, http.StatusFound)
	if hmacCookie := setCookie(r.header, prefix+"OauthHMAC"); !strings.Contains(strings.ToLower(hmacCookie), "max-age=600") {
		t.Errorf("without expires_in: %s", hmacCookie)
	}
	p.set(func(p *oidcProvider) { p.expiresIn = 3600 })

	// 8. The logout path deletes the session cookies.
	r = send("GET", "/app/logout", jar, nil)
	wantStatus(t, r, http.StatusFound)
	if r.header.Get("Location") != "http://"+fsHost+"/" {
		t.Errorf("logout: Location %q", r.header.Get("Location"))
	}
	jar.update(t, r.header)
	for _, n := range []string{"BearerToken", "OauthHMAC", "OauthExpires", "IdToken", "RefreshToken"} {
		if _, ok := jar[prefix+n]; ok {
			t.Errorf("logout left %s: %v", n, r.header.Values("Set-Cookie"))
		}
	}
	wantStatus(t, send("GET", "/app/page", jar, nil), http.StatusFound)
}

// backendGot is the request the release backend received for r.
func backendGot(t *testing.T, w *fsWorld, r *result) received {
	t.Helper()
	got, ok := w.be.release.request(r.requestID)
	if !ok {
		t.Fatalf("the backend did not receive request %q", r.requestID)
	}
	return got
}

// setCookie returns the Set-Cookie line of a cookie.
func setCookie(h http.Header, name string) string {
	for _, l := range h.Values("Set-Cookie") {
		if strings.HasPrefix(l, name+"=") {
			return l
		}
	}
	return ""
}
