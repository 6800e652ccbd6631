package envoysim

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	oauth2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/oauth2/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// The oauth2 HTTP filter (envoy.extensions.filters.http.oauth2.v3.OAuth2),
// emulated from its configuration and the SDS generic secrets it names, as
// the filter of Envoy's main branch behaves (read at envoyproxy/envoy
// 0065ce50a2a5, source/extensions/filters/http/oauth2/filter.cc and
// oauth_client.cc, with the oauth2_cleanup_cookies runtime guard on, its
// default). For each request on a route where the filter runs:
//
//  1. a pass_through_matcher that matches lets the request through
//     untouched;
//  2. the two secrets must have arrived, else 503 "Service Unavailable";
//  3. the session cookies' tokens are decrypted in the Cookie header
//     (AES-256-CBC keyed by SHA-256 of the HMAC secret, IV first,
//     base64url), and the Authorization header is removed unless
//     preserve_authorization_header;
//  4. signout_path: 302 to scheme://host/ deleting the session cookies;
//  5. a valid session (HMAC-SHA256 over host, expiry and the three tokens,
//     expiry in the future): forward_bearer_token sets Authorization, the
//     flow cookies and the HMAC, expiry and refresh-token cookies leave the
//     Cookie header, the request goes on; on the callback path it is the
//     "race" redirect to the state's URL instead;
//  6. no session, not the callback: with a refresh token (use_refresh_token)
//     the token endpoint is asked for new tokens; otherwise (or when that
//     fails) 302 to authorization_endpoint with client_id, response_type,
//     scope, state (base64url JSON of the original URL, a CSRF token
//     "<nonce>.<HMAC(nonce)>" and the flow id), redirect_uri and a PKCE S256
//     challenge; the CSRF token and the encrypted verifier are cookies
//     (per-flow names "<name>.<flow id>" and the legacy names);
//  7. the callback (redirect_path_matcher): the state's CSRF token must
//     equal the nonce cookie and carry a valid HMAC, the verifier cookie
//     must decrypt; the code is exchanged at token_endpoint (POST over the
//     endpoint's cluster, client credentials in the body or as HTTP Basic
//     per auth_type); success is a 302 to the original URL setting the
//     session cookies; any failure a 401 "OAuth flow failed.".
//
// Settings outside this (allow_failed_matcher, end_session_endpoint,
// cookie domains and cookie_configs, resources, original_request_uri,
// allowed_redirect_domains, private-key JWT and TLS client auth, token
// forwarding of the ID token, cookie chunking, retries, per-route
// OAuth2PerRoute) make Serve fail rather than guess.

const (
	oauthFailedBody   = "OAuth flow failed."
	oauthCookieDelete = "=deleted; path=%s; expires=Thu, 01 Jan 1970 00:00:00 GMT"
	oauthFlowTTL      = 600 // CSRF and code-verifier cookies, seconds (default)
	oauthRefreshTTL   = 604800
)

// oauthCookies are the configured cookie names (Envoy's defaults where
// unset).
type oauthCookies struct {
	bearer, hmac, expires, idToken, refresh, nonce, verifier string
}

func oauthCookieNames(n *oauth2v3.OAuth2Credentials_CookieNames) oauthCookies {
	or := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	return oauthCookies{
		bearer: or(n.GetBearerToken(), "BearerToken"), hmac: or(n.GetOauthHmac(), "OauthHMAC"),
		expires: or(n.GetOauthExpires(), "OauthExpires"), idToken: or(n.GetIdToken(), "IdToken"),
		refresh: or(n.GetRefreshToken(), "RefreshToken"), nonce: or(n.GetOauthNonce(), "OauthNonce"),
		verifier: or(n.GetCodeVerifier(), "CodeVerifier"),
	}
}

// oauthRun is one pass of a request through an oauth2 filter.
type oauthRun struct {
	s            *stream
	name         string
	cfg          *oauth2v3.OAuth2Config
	cookies      oauthCookies
	hmacSecret   string
	clientSecret string
	host         string
	flowID       string
}

// oauth2 runs an oauth2 filter; a nil response lets the request go on.
func (s *stream) oauth2(ctx context.Context, name string, a, per *anypb.Any) (*Response, error) {
	if per != nil {
		return nil, fmt.Errorf("per-route config %s is not emulated", per.GetTypeUrl())
	}
	f := &oauth2v3.OAuth2{}
	if err := unpack(a, f); err != nil {
		return nil, err
	}
	cfg := f.GetConfig()
	if cfg == nil {
		s.tracef("filter %s: no config, pass through", name)
		return nil, nil
	}
	if err := oauthEmulated(cfg); err != nil {
		return nil, err
	}
	r := &oauthRun{s: s, name: name, cfg: cfg, cookies: oauthCookieNames(cfg.GetCredentials().GetCookieNames())}
	for _, m := range cfg.GetPassThroughMatcher() {
		ok, err := matchHeader(m, s.hdr)
		if err != nil {
			return nil, err
		}
		if ok {
			s.tracef("filter %s: pass_through_matcher %s matched", name, m.GetName())
			return nil, nil
		}
	}
	var ready bool
	var err error
	if r.hmacSecret, r.clientSecret, ready, err = r.secrets(); err != nil {
		return nil, err
	}
	if !ready {
		s.tracef("filter %s: secrets not ready", name)
		return s.localReply(http.StatusServiceUnavailable, "Service Unavailable", nil, "OAuth2 secrets are not ready"), nil
	}
	r.decryptTokenCookies()
	if !cfg.GetPreserveAuthorizationHeader() {
		s.hdr.Del("authorization")
	}
	r.host = s.hdr.Value(":authority")
	path := s.hdr.Value(":path")
	callback, err := pathMatches(cfg.GetRedirectPathMatcher(), path)
	if err != nil {
		return nil, err
	}
	signout, err := pathMatches(cfg.GetSignoutPath(), path)
	if err != nil {
		return nil, err
	}
	if signout {
		return r.signOut(), nil
	}
	if r.validSession() {
		if callback {
			return r.raceRedirect(path)
		}
		s.tracef("filter %s: valid session", name)
		r.removeFlowCookies()
		return nil, nil
	}
	if !callback {
		if r.useRefreshToken() && r.cookie(r.cookies.refresh) != "" {
			resp, done, err := r.refresh(ctx)
			if err != nil || done {
				return resp, err
			}
		}
		return r.redirectToServer()
	}
	return r.callback(ctx, path)
}

// oauthEmulated refuses the settings the emulator does not play.
func oauthEmulated(c *oauth2v3.OAuth2Config) error {
	var bad []string
	add := func(set bool, field string) {
		if set {
			bad = append(bad, field)
		}
	}
	add(c.GetRetryPolicy() != nil, "retry_policy")
	add(c.GetEndSessionEndpoint() != "", "end_session_endpoint")
	add(c.GetPostLogoutRedirectUri() != nil, "post_logout_redirect_uri")
	add(c.GetForwardIdToken() != nil, "forward_id_token")
	add(len(c.GetResources()) > 0, "resources")
	add(c.GetAuthType() == oauth2v3.OAuth2Config_TLS_CLIENT_AUTH, "auth_type TLS_CLIENT_AUTH")
	add(c.GetCookieConfigs() != nil, "cookie_configs")
	add(len(c.GetAllowFailedMatcher()) > 0, "allow_failed_matcher")
	add(c.GetOriginalRequestUri() != "", "original_request_uri")
	add(len(c.GetAllowedRedirectDomains()) > 0, "allowed_redirect_domains")
	add(c.GetPrivateKeyJwtConfig() != nil, "private_key_jwt_config")
	add(c.GetTokenCookieChunking() != nil, "token_cookie_chunking")
	add(c.GetCredentials().GetCookieDomain() != "", "credentials.cookie_domain")
	add(c.GetCredentials().GetHmacSecret() == nil, "credentials.token_formation other than hmac_secret")
	add(c.GetTokenEndpoint().GetCluster() == "", "token_endpoint without a cluster")
	if len(bad) > 0 {
		return fmt.Errorf("oauth2 settings not emulated: %s", strings.Join(bad, ", "))
	}
	return nil
}

// secrets reads the client and HMAC secrets (generic secrets over SDS);
// ready is false while one has not arrived.
func (r *oauthRun) secrets() (hmacSecret, clientSecret string, ready bool, err error) {
	read := func(ref *tlsv3.SdsSecretConfig) (string, bool, error) {
		if ref == nil {
			return "", false, nil
		}
		sec, err := sdsSecret(ref, r.s.cfg.Secrets)
		if err != nil {
			return "", false, nil // Envoy: not ready
		}
		g := sec.GetGenericSecret()
		if g == nil {
			return "", false, fmt.Errorf("secret %s is not a generic secret", ref.GetName())
		}
		b, err := dataSource(g.GetSecret())
		if err != nil {
			return "", false, fmt.Errorf("secret %s: %w", ref.GetName(), err)
		}
		return string(b), true, nil
	}
	cred := r.cfg.GetCredentials()
	client, ok1, err := read(cred.GetTokenSecret())
	if err != nil {
		return "", "", false, err
	}
	h, ok2, err := read(cred.GetHmacSecret())
	if err != nil {
		return "", "", false, err
	}
	return h, client, ok1 && ok2, nil
}

func (r *oauthRun) useRefreshToken() bool {
	if v := r.cfg.GetUseRefreshToken(); v != nil {
		return v.GetValue()
	}
	return true
}

// pathMatches applies a PathMatcher to the path without query or fragment.
func pathMatches(m *matcherv3.PathMatcher, path string) (bool, error) {
	if m == nil {
		return false, nil
	}
	p, _, _ := strings.Cut(path, "?")
	p, _, _ = strings.Cut(p, "#")
	sm := m.GetPath()
	if sm == nil {
		return false, fmt.Errorf("path matcher %T is not emulated", m.GetRule())
	}
	return matchString(sm, p)
}

// parseCookies reads the Cookie headers as Envoy does: "; "-separated
// pairs, surrounding quotes stripped, the first of a repeated name kept.
func parseCookies(h *Headers) ([]string, map[string]string) {
	var order []string
	out := map[string]string{}
	for _, line := range h.Values("cookie") {
		for _, part := range strings.Split(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || k == "" {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if _, dup := out[k]; !dup {
				order = append(order, k)
				out[k] = v
			}
		}
	}
	return order, out
}

func (r *oauthRun) cookie(name string) string {
	_, c := parseCookies(r.s.hdr)
	return c[name]
}

// setCookies writes the Cookie header back (Envoy rewrites it whole).
func setCookies(h *Headers, order []string, c map[string]string) {
	var parts []string
	for _, k := range order {
		if v, ok := c[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	h.Set("cookie", strings.Join(parts, "; "))
}

// decryptTokenCookies replaces the encrypted tokens of the Cookie header
// with their plaintext (a value that does not decrypt is kept: its HMAC
// then fails).
func (r *oauthRun) decryptTokenCookies() {
	if r.cfg.GetDisableTokenEncryption() {
		return
	}
	order, c := parseCookies(r.s.hdr)
	if len(c) == 0 {
		return
	}
	changed := false
	for _, n := range []string{r.cookies.bearer, r.cookies.idToken, r.cookies.refresh} {
		if v := c[n]; v != "" {
			if p, err := oauthDecrypt(v, r.hmacSecret); err == nil && validHeaderValue(p) {
				c[n] = p
			}
			changed = true
		}
	}
	if changed {
		setCookies(r.s.hdr, order, c)
	}
}

func validHeaderValue(v string) bool {
	return !strings.ContainsAny(v, "\r\n\x00")
}

// sessionHMAC is the OauthHMAC cookie's value: base64 of HMAC-SHA256 over
// host, expiry and the tokens, newline-separated.
func sessionHMAC(secret, host, expires, access, id, refresh string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strings.Join([]string{host, expires, access, id, refresh}, "\n")))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// sessionHMACHex is the older form Envoy still accepts: base64 of the hex
// digest.
func sessionHMACHex(secret, host, expires, access, id, refresh string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strings.Join([]string{host, expires, access, id, refresh}, "\n")))
	return base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(m.Sum(nil))))
}

func constEq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// validSession checks the session cookies and, with forward_bearer_token,
// sets Authorization.
func (r *oauthRun) validSession() bool {
	_, c := parseCookies(r.s.hdr)
	exp, access, id, refresh, mac := c[r.cookies.expires], c[r.cookies.bearer], c[r.cookies.idToken], c[r.cookies.refresh], c[r.cookies.hmac]
	if !constEq(sessionHMAC(r.hmacSecret, r.host, exp, access, id, refresh), mac) &&
		!constEq(sessionHMACHex(r.hmacSecret, r.host, exp, access, id, refresh), mac) {
		return false
	}
	n, err := strconv.ParseUint(exp, 10, 64)
	if err != nil || time.Unix(int64(n), 0).Before(time.Now()) || int64(n) == time.Now().Unix() {
		return false
	}
	if r.cfg.GetForwardBearerToken() && access != "" {
		r.s.hdr.Set("authorization", "Bearer "+access)
	}
	return true
}

// removeFlowCookies removes the flow cookies and the HMAC, expiry and
// refresh-token cookies from the request (oauth2_cleanup_cookies).
func (r *oauthRun) removeFlowCookies() {
	order, c := parseCookies(r.s.hdr)
	if len(c) == 0 {
		return
	}
	delete(c, r.cookies.hmac)
	delete(c, r.cookies.expires)
	delete(c, r.cookies.refresh)
	for k := range c {
		for _, base := range []string{r.cookies.nonce, r.cookies.verifier} {
			if k == base || strings.HasPrefix(k, base+".") {
				delete(c, k)
			}
		}
	}
	setCookies(r.s.hdr, order, c)
}

func deleteCookie(name string) string { return name + fmt.Sprintf(oauthCookieDelete, "/") }

// flowCookieDeletions deletes the CSRF and verifier cookies of a flow.
func (r *oauthRun) flowCookieDeletions(h *Headers) {
	for _, base := range []string{r.cookies.nonce, r.cookies.verifier} {
		if r.flowID != "" {
			h.Add("set-cookie", deleteCookie(base+"."+r.flowID))
		}
		h.Add("set-cookie", deleteCookie(base))
	}
}

// cookieTail is Envoy's attribute tail (default path and SameSite).
func cookieTail(maxAge string) string { return ";path=/;Max-Age=" + maxAge + ";secure;HttpOnly" }

func (r *oauthRun) unauthorized(reason string) *Response {
	r.s.tracef("filter %s: 401: %s", r.name, reason)
	h := &Headers{}
	if r.flowID != "" {
		r.flowCookieDeletions(h)
	}
	return r.s.localReply(http.StatusUnauthorized, oauthFailedBody, h, reason)
}

func (r *oauthRun) signOut() *Response {
	h := &Headers{}
	for _, n := range []string{r.cookies.hmac, r.cookies.bearer, r.cookies.idToken, r.cookies.refresh, r.cookies.expires} {
		h.Add("set-cookie", deleteCookie(n))
	}
	order, _ := parseCookies(r.s.hdr)
	for _, k := range order {
		for _, base := range []string{r.cookies.nonce, r.cookies.verifier} {
			if k == base || strings.HasPrefix(k, base+".") {
				h.Add("set-cookie", deleteCookie(k))
			}
		}
	}
	h.Set("location", r.s.hdr.Value(":scheme")+"://"+r.host+"/")
	r.s.tracef("filter %s: sign out", r.name)
	return r.s.reply(http.StatusFound, nil, h, "oauth.sign_out")
}

// oauthURLEncode percent-encodes everything but unreserved characters.
func oauthURLEncode(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// formEncode percent-encodes the form-reserved characters Envoy encodes in
// the token request (":/=&?+", and "%" and non-printable bytes).
func formEncode(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(":/=&?+%", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func randomUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func hmacBase64(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (r *oauthRun) redirectURI() (string, error) {
	return formatText(r.cfg.GetRedirectUri(), "", r.s.fmtCtx(nil))
}

// redirectToServer answers 302 to the authorization endpoint.
func (r *oauthRun) redirectToServer() (*Response, error) {
	for _, m := range r.cfg.GetDenyRedirectMatcher() {
		ok, err := matchHeader(m, r.s.hdr)
		if err != nil {
			return nil, err
		}
		if ok {
			return r.unauthorized("Unauthorized, and redirecting to OAuth server is not allowed"), nil
		}
	}
	scheme := "https"
	if strings.EqualFold(r.s.hdr.Value(":scheme"), "http") {
		scheme = "http"
	}
	original := scheme + "://" + r.host + r.s.hdr.Value(":path")
	flowID := fmt.Sprintf("%016x", randomUint64())
	csrf := flowID + "." + hmacBase64(r.hmacSecret, flowID)
	var sb bytes.Buffer
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false) // Envoy escapes only what JSON requires
	if err := enc.Encode(struct {
		URL       string `json:"url"`
		CSRFToken string `json:"csrf_token"`
		FlowID    string `json:"flow_id"`
	}{original, csrf, flowID}); err != nil {
		return nil, err
	}
	state := bytes.TrimSuffix(sb.Bytes(), []byte("\n"))
	h := &Headers{}
	tail := cookieTail(strconv.Itoa(durationSeconds(r.cfg.GetCsrfTokenExpiresIn().AsDuration(), oauthFlowTTL)))
	h.Add("set-cookie", r.cookies.nonce+"."+flowID+"="+csrf+tail)
	h.Add("set-cookie", r.cookies.nonce+"="+csrf+tail)
	redirectURI, err := r.redirectURI()
	if err != nil {
		return nil, err
	}
	var vb [32]byte
	_, _ = rand.Read(vb[:])
	verifier := base64.RawURLEncoding.EncodeToString(vb[:])
	encVerifier, err := oauthEncrypt(verifier, r.hmacSecret)
	if err != nil {
		return nil, err
	}
	vtail := cookieTail(strconv.Itoa(durationSeconds(r.cfg.GetCodeVerifierTokenExpiresIn().AsDuration(), oauthFlowTTL)))
	h.Add("set-cookie", r.cookies.verifier+"."+flowID+"="+encVerifier+vtail)
	h.Add("set-cookie", r.cookies.verifier+"="+encVerifier+vtail)
	sum := sha256.Sum256([]byte(verifier))

	ep, err := url.Parse(r.cfg.GetAuthorizationEndpoint())
	if err != nil {
		return nil, fmt.Errorf("authorization_endpoint: %w", err)
	}
	params := map[string]string{}
	for _, kv := range strings.Split(ep.RawQuery, "&") {
		if k, v, _ := strings.Cut(kv, "="); k != "" {
			if _, ok := params[k]; !ok {
				params[k] = v
			}
		}
	}
	scopes := r.cfg.GetAuthScopes()
	if len(scopes) == 0 {
		scopes = []string{"user"}
	}
	params["client_id"] = r.cfg.GetCredentials().GetClientId()
	params["response_type"] = "code"
	params["scope"] = oauthURLEncode(strings.Join(scopes, " "))
	params["state"] = base64.RawURLEncoding.EncodeToString(state)
	params["redirect_uri"] = oauthURLEncode(redirectURI)
	params["code_challenge"] = base64.RawURLEncoding.EncodeToString(sum[:])
	params["code_challenge_method"] = "S256"
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var q []string
	for _, k := range keys {
		q = append(q, k+"="+params[k])
	}
	ep.RawQuery, ep.Fragment = "", ""
	h.Set("location", ep.String()+"?"+strings.Join(q, "&"))
	r.s.tracef("filter %s: no session, redirect to the authorization endpoint (flow %s)", r.name, flowID)
	return r.s.reply(http.StatusFound, nil, h, "oauth.missing_credentials"), nil
}

func durationSeconds(d time.Duration, def int) int {
	if d <= 0 {
		return def
	}
	return int(d / time.Second)
}

// callbackState is a validated callback: the original URL and the code.
type callbackState struct {
	url, code string
}

// validateCallback checks the callback's query: no error, a code, a state
// whose CSRF token matches the nonce cookie and its HMAC.
func (r *oauthRun) validateCallback(path string) (*callbackState, string) {
	_, rawQuery, _ := strings.Cut(path, "?")
	first := map[string]string{}
	for _, kv := range strings.Split(rawQuery, "&") {
		if k, v, _ := strings.Cut(kv, "="); k != "" {
			if _, ok := first[k]; !ok {
				first[k] = v
			}
		}
	}
	if _, ok := first["error"]; ok {
		if st, ok := first["state"]; ok {
			r.validateState(st)
		}
		return nil, "OAuth server returned an error: " + rawQuery
	}
	code, okc := first["code"]
	st, oks := first["state"]
	if !okc || !oks {
		return nil, "Code or state query param does not exist"
	}
	u, reason := r.validateState(st)
	if reason != "" {
		return nil, reason
	}
	return &callbackState{url: u, code: code}, ""
}

func (r *oauthRun) validateState(st string) (string, string) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(st, "="))
	if err != nil {
		return "", "State query param is not a valid JSON"
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", "State query param is not a valid JSON"
	}
	u, okU := v["url"].(string)
	csrf, okC := v["csrf_token"].(string)
	if _, has := v["url"]; !has || !okU || !okC {
		return "", "State query param does not contain url or CSRF token"
	}
	flowID, _ := v["flow_id"].(string)
	_, c := parseCookies(r.s.hdr)
	nonce, ok := c[r.cookies.nonce+"."+flowID]
	if !ok || nonce == "" {
		nonce, ok = c[r.cookies.nonce]
	}
	if !ok || nonce == "" || !constEq(nonce, csrf) {
		return "", "CSRF token validation failed"
	}
	tok, mac, ok := strings.Cut(csrf, ".")
	if !ok || !constEq(hmacBase64(r.hmacSecret, tok), mac) {
		return "", "CSRF token validation failed"
	}
	r.flowID = flowID
	if pu, err := url.Parse(u); err != nil || pu.Scheme == "" || pu.Host == "" {
		return "", "State url can not be initialized: " + u
	}
	return u, ""
}

// raceRedirect: a valid session on the callback path goes back to the
// state's URL without a new exchange.
func (r *oauthRun) raceRedirect(path string) (*Response, error) {
	cb, reason := r.validateCallback(path)
	if cb == nil {
		return r.unauthorized(reason), nil
	}
	u, _ := url.Parse(cb.url)
	if ok, err := pathMatches(r.cfg.GetRedirectPathMatcher(), u.RequestURI()); err != nil {
		return nil, err
	} else if ok {
		return r.unauthorized("State url query params matches the redirect path matcher"), nil
	}
	h := &Headers{}
	h.Set("location", cb.url)
	r.flowCookieDeletions(h)
	return r.s.reply(http.StatusFound, nil, h, "oauth.race_redirect"), nil
}

// tokens is a token endpoint's answer.
type tokens struct {
	access, id, refresh string
	expiresIn           int64
}

// callback exchanges the code and sets the session cookies.
func (r *oauthRun) callback(ctx context.Context, path string) (*Response, error) {
	cb, reason := r.validateCallback(path)
	if cb == nil {
		return r.unauthorized(reason), nil
	}
	redirectURI, err := r.redirectURI()
	if err != nil {
		return nil, err
	}
	_, c := parseCookies(r.s.hdr)
	enc, ok := c[r.cookies.verifier+"."+r.flowID]
	if !ok || enc == "" {
		enc, ok = c[r.cookies.verifier]
	}
	if !ok || enc == "" {
		return r.unauthorized("Code verifier cookie is missing in the request"), nil
	}
	verifier, err := oauthDecrypt(enc, r.hmacSecret)
	if err != nil {
		return r.unauthorized("Failed to decrypt code verifier"), nil
	}
	id := r.cfg.GetCredentials().GetClientId()
	var body string
	var basic string
	switch r.cfg.GetAuthType() {
	case oauth2v3.OAuth2Config_BASIC_AUTH:
		basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+r.clientSecret))
		body = fmt.Sprintf("grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s", cb.code, formEncode(redirectURI), verifier)
	default:
		body = fmt.Sprintf("grant_type=authorization_code&code=%s&client_id=%s&client_secret=%s&redirect_uri=%s&code_verifier=%s",
			cb.code, formEncode(id), formEncode(r.clientSecret), formEncode(redirectURI), verifier)
	}
	t, reason, err := r.tokenRequest(ctx, body, basic)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		return r.unauthorized(reason), nil
	}
	h := &Headers{}
	r.sessionCookies(h, t)
	r.flowCookieDeletions(h)
	h.Set("location", cb.url)
	r.s.tracef("filter %s: code exchanged, session cookies set, back to %s", r.name, cb.url)
	return r.s.reply(http.StatusFound, nil, h, "oauth.logged_in"), nil
}

// refresh renews the tokens with the refresh token: done is false when it
// failed and the flow must start again.
func (r *oauthRun) refresh(ctx context.Context) (*Response, bool, error) {
	id := r.cfg.GetCredentials().GetClientId()
	rt := r.cookie(r.cookies.refresh)
	var body, basic string
	switch r.cfg.GetAuthType() {
	case oauth2v3.OAuth2Config_BASIC_AUTH:
		basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+r.clientSecret))
		body = "grant_type=refresh_token&refresh_token=" + oauthURLEncode(rt)
	default:
		body = fmt.Sprintf("grant_type=refresh_token&refresh_token=%s&client_id=%s&client_secret=%s", formEncode(rt), formEncode(id), formEncode(r.clientSecret))
	}
	t, reason, err := r.tokenRequest(ctx, body, basic)
	if err != nil {
		return nil, false, err
	}
	if reason != "" {
		r.s.tracef("filter %s: refresh failed: %s", r.name, reason)
		return nil, false, nil
	}
	access, idt, refresh, expires := r.kept(t)
	order, c := parseCookies(r.s.hdr)
	set := func(k, v string) {
		if _, ok := c[k]; !ok {
			order = append(order, k)
		}
		c[k] = v
	}
	set(r.cookies.expires, expires)
	if access != "" {
		set(r.cookies.bearer, access)
	}
	if idt != "" {
		set(r.cookies.idToken, idt)
	}
	if refresh != "" {
		set(r.cookies.refresh, refresh)
	} else if old, ok := c[r.cookies.refresh]; ok {
		refresh = old
	}
	set(r.cookies.hmac, sessionHMAC(r.hmacSecret, r.host, expires, access, idt, refresh))
	setCookies(r.s.hdr, order, c)
	if r.cfg.GetForwardBearerToken() && access != "" {
		r.s.hdr.Set("authorization", "Bearer "+access)
	}
	// The response carries the new session cookies.
	h := &Headers{}
	t.refresh = refresh
	r.sessionCookies(h, t)
	for _, v := range h.Values("set-cookie") {
		r.s.respAdd = append(r.s.respAdd, respHeader{name: "set-cookie", value: v, appendValue: true})
	}
	r.removeFlowCookies()
	r.s.tracef("filter %s: tokens renewed with the refresh token", r.name)
	return nil, true, nil
}

// kept applies the disable_*_set_cookie and use_refresh_token settings and
// returns the tokens of the session and its expiry (epoch seconds).
func (r *oauthRun) kept(t *tokens) (access, id, refresh, expires string) {
	if !r.cfg.GetDisableAccessTokenSetCookie() {
		access = t.access
	}
	if !r.cfg.GetDisableIdTokenSetCookie() {
		id = t.id
	}
	if r.useRefreshToken() && !r.cfg.GetDisableRefreshTokenSetCookie() {
		refresh = t.refresh
	}
	return access, id, refresh, strconv.FormatInt(time.Now().Unix()+t.expiresIn, 10)
}

// sessionCookies adds the Set-Cookie headers of a new session.
func (r *oauthRun) sessionCookies(h *Headers, t *tokens) {
	access, id, refresh, expires := r.kept(t)
	maxAge := strconv.FormatInt(t.expiresIn, 10)
	h.Add("set-cookie", r.cookies.hmac+"="+sessionHMAC(r.hmacSecret, r.host, expires, access, id, refresh)+cookieTail(maxAge))
	h.Add("set-cookie", r.cookies.expires+"="+expires+cookieTail(maxAge))
	_, req := parseCookies(r.s.hdr)
	set := func(name, v, age string) {
		if v != "" {
			if !r.cfg.GetDisableTokenEncryption() {
				v, _ = oauthEncrypt(v, r.hmacSecret)
			}
			h.Add("set-cookie", name+"="+v+cookieTail(age))
		} else if _, ok := req[name]; ok {
			h.Add("set-cookie", deleteCookie(name))
		}
	}
	set(r.cookies.bearer, access, maxAge)
	idAge := maxAge
	if !r.cfg.GetUseAccessTokenExpiryForIdTokenCookie() && id != "" {
		idAge = jwtMaxAge(id, maxAge)
	}
	set(r.cookies.idToken, id, idAge)
	refreshAge := maxAge
	if r.useRefreshToken() {
		def := strconv.Itoa(durationSeconds(r.cfg.GetDefaultRefreshTokenExpiresIn().AsDuration(), oauthRefreshTTL))
		refreshAge = jwtMaxAge(refresh, def)
	}
	set(r.cookies.refresh, refresh, refreshAge)
}

// jwtMaxAge is the seconds until a JWT's exp ("0" when past), or def when
// the token is not a JWT with exp. The signature is not checked (nor is it
// by Envoy here).
func jwtMaxAge(tok, def string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return def
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return def
	}
	var claims struct {
		Exp float64 `json:"exp"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Exp == 0 {
		return def
	}
	left := int64(claims.Exp) - time.Now().Unix()
	if left <= 0 {
		return "0"
	}
	return strconv.FormatInt(left, 10)
}

// tokenRequest POSTs to token_endpoint over its cluster; reason is why
// the exchange failed (a 401 for the client).
func (r *oauthRun) tokenRequest(ctx context.Context, body, basic string) (*tokens, string, error) {
	if r.s.e.opts.Upstream != nil {
		return nil, "", errors.New("the token endpoint is not called in an evaluation without upstream requests")
	}
	uri := r.cfg.GetTokenEndpoint()
	cl := r.s.cfg.Clusters[uri.GetCluster()]
	if cl == nil {
		return nil, "Token endpoint cluster not found", nil
	}
	ep, _, err := r.s.e.endpoint(r.s.cfg, cl)
	if err != nil {
		return nil, "", err
	}
	if ep == "" {
		return nil, "Failed to get access token due to HTTP request failure", nil
	}
	u, err := url.Parse(uri.GetUri())
	if err != nil {
		return nil, "", fmt.Errorf("token_endpoint: %w", err)
	}
	scheme := "http"
	client := r.s.e.http
	if ts := cl.GetTransportSocket(); ts != nil {
		cfg, err := upstreamTLS(ts, r.s.cfg.Secrets)
		if err != nil {
			return nil, "", fmt.Errorf("cluster %s: %w", cl.GetName(), err)
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		scheme = "https"
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableCompression: true}, CheckRedirect: r.s.e.http.CheckRedirect}
	}
	if d := uri.GetTimeout().AsDuration(); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, scheme+"://"+ep, bytes.NewReader([]byte(body)))
	if err != nil {
		return nil, "", err
	}
	req.URL = &url.URL{Scheme: scheme, Host: ep, Opaque: path, RawQuery: u.RawQuery}
	req.Host = u.Host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "")
	if basic != "" {
		req.Header.Set("Authorization", basic)
	}
	resp, err := client.Do(req)
	if err != nil {
		r.s.tracef("filter %s: token endpoint: %v", r.name, err)
		return nil, "Failed to get access token due to HTTP request failure", nil
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, "Failed to get access token due to HTTP request failure", nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Sprintf("Failed to get access token: response code: %d", resp.StatusCode), nil
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(rb, &v); err != nil {
		return nil, "Failed to parse oauth response body", nil
	}
	str := func(k string) (string, bool, bool) {
		raw, ok := v[k]
		if !ok || string(raw) == "null" {
			return "", false, true
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", true, false
		}
		return s, true, true
	}
	t := &tokens{}
	var has, ok bool
	if t.access, has, ok = str("access_token"); !ok {
		return nil, "Failed to parse oauth response body", nil
	} else if !has {
		return nil, "No access token found in the token exchange response", nil
	}
	if t.id, _, ok = str("id_token"); !ok {
		return nil, "Failed to parse oauth response body", nil
	}
	if t.refresh, _, ok = str("refresh_token"); !ok {
		return nil, "Failed to parse oauth response body", nil
	}
	t.expiresIn = int64(r.cfg.GetDefaultExpiresIn().AsDuration() / time.Second)
	if raw, ok := v["expires_in"]; ok && string(raw) != "null" {
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&n) != nil {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return nil, "Failed to parse oauth response body", nil
			}
			n = json.Number(s)
		}
		e, err := strconv.ParseUint(string(n), 10, 64)
		if err != nil {
			return nil, "Failed to parse oauth response body", nil
		}
		t.expiresIn = int64(e)
	}
	if t.expiresIn <= 0 {
		return nil, "No default or explicit access token expiration found in the token exchange response", nil
	}
	return t, "", nil
}

// oauthEncrypt is Envoy's token encryption: AES-256-CBC with the SHA-256
// of the secret as key, a random IV before the ciphertext, base64url.
func oauthEncrypt(plain, secret string) (string, error) {
	key := sha256.Sum256([]byte(secret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return "", err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append([]byte(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, aes.BlockSize+len(buf))
	if _, err := rand.Read(out[:aes.BlockSize]); err != nil {
		return "", err
	}
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], buf)
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func oauthDecrypt(enc, secret string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
	if err != nil {
		return "", err
	}
	if len(b) <= aes.BlockSize || (len(b)-aes.BlockSize)%aes.BlockSize != 0 {
		return "", errors.New("invalid encrypted data")
	}
	key := sha256.Sum256([]byte(secret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return "", err
	}
	out := make([]byte, len(b)-aes.BlockSize)
	cipher.NewCBCDecrypter(block, b[:aes.BlockSize]).CryptBlocks(out, b[aes.BlockSize:])
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(out) || !slices.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return "", errors.New("failed to finalize decryption")
	}
	return string(out[:len(out)-pad]), nil
}
