package envoysim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	oauth2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/oauth2/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

type oauthFixture struct {
	e        *Envoy
	cfg      *Config
	mu       sync.Mutex
	tokenReq *http.Request
	form     url.Values
	upstream http.Header
}

// oauthFixture: one route through an oauth2 filter (BASIC_AUTH, plain HTTP
// token endpoint) to an upstream that records its requests.
func newOAuthFixture(t *testing.T, mutate func(*oauth2v3.OAuth2Config), secrets bool) *oauthFixture {
	t.Helper()
	f := &oauthFixture{}
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.tokenReq, f.form = r, r.PostForm
		f.mu.Unlock()
		if id, secret, ok := r.BasicAuth(); !ok || id != "cid" || secret != "csecret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"AT","id_token":"IT","expires_in":"60"}`))
	}))
	t.Cleanup(idp.Close)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.upstream = r.Header.Clone()
		f.mu.Unlock()
	}))
	t.Cleanup(up.Close)
	sds := func(n string) *tlsv3.SdsSecretConfig {
		return &tlsv3.SdsSecretConfig{Name: n, SdsConfig: &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}}
	}
	exactPath := func(p string) *matcherv3.PathMatcher {
		return &matcherv3.PathMatcher{Rule: &matcherv3.PathMatcher_Path{Path: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: p}}}}
	}
	oc := &oauth2v3.OAuth2Config{
		TokenEndpoint:         &corev3.HttpUri{Uri: "http://idp.test/oauth/token", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: "idp"}, Timeout: durationpb.New(5e9)},
		AuthorizationEndpoint: "https://idp.test/authorize?prompt=login",
		Credentials:           &oauth2v3.OAuth2Credentials{ClientId: "cid", TokenSecret: sds("client"), TokenFormation: &oauth2v3.OAuth2Credentials_HmacSecret{HmacSecret: sds("hmac")}},
		RedirectUri:           "%REQ(:scheme)%://%REQ(:authority)%/callback",
		RedirectPathMatcher:   exactPath("/callback"),
		SignoutPath:           exactPath("/signout"),
		AuthType:              oauth2v3.OAuth2Config_BASIC_AUTH,
		PassThroughMatcher:    []*routev3.HeaderMatcher{{Name: "x-skip", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}},
	}
	if mutate != nil {
		mutate(oc)
	}
	hcm := &hcmv3.HttpConnectionManager{StatPrefix: "http",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "rc"}},
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: "oauth", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, &oauth2v3.OAuth2{Config: oc})}},
			{Name: filterRouter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: anyOf(t, &routerv3.Router{})}},
		}}
	cfg := newConfig()
	cfg.Listeners["l"] = &listenerv3.Listener{Name: "l", Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: anyOf(t, hcm)}}}}}}
	cfg.Routes["rc"] = &routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"*"}, Routes: []*routev3.Route{
		{Name: "all", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, Action: toCluster("up")}}}}}
	cfg.Clusters["up"] = staticCluster("up", up.Listener.Addr().String())
	cfg.Clusters["idp"] = staticCluster("idp", idp.Listener.Addr().String())
	if secrets {
		for n, v := range map[string]string{"client": "csecret", "hmac": "hmac-key"} {
			cfg.Secrets[n] = &tlsv3.Secret{Name: n, Type: &tlsv3.Secret_GenericSecret{GenericSecret: &tlsv3.GenericSecret{Secret: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: v}}}}}
		}
	}
	if err := ValidateDeep(cfg.Listeners["l"]); err != nil {
		t.Fatal(err)
	}
	f.cfg = cfg
	f.e = New(StaticConfig(cfg), Options{})
	t.Cleanup(f.e.Close)
	return f
}

func (f *oauthFixture) serve(t *testing.T, path string, hdr http.Header) *Response {
	t.Helper()
	r, err := f.e.Serve(context.Background(), &Request{Method: "GET", Path: path, Host: "app.test", Header: hdr})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOAuth2Flow(t *testing.T) {
	f := newOAuthFixture(t, nil, true)
	r := f.serve(t, "/page", nil)
	if r.Status != http.StatusFound {
		t.Fatalf("no session: %s", r)
	}
	loc, _ := url.Parse(r.Header.Get("Location"))
	q := loc.Query()
	// The endpoint's own parameters are kept; the default scope is "user";
	// the redirect_uri is the formatted one.
	if q.Get("prompt") != "login" || q.Get("scope") != "user" || q.Get("redirect_uri") != "http://app.test/callback" || loc.Path != "/authorize" {
		t.Fatalf("Location %s", loc)
	}
	jar := http.Header{}
	var cookies []string
	for _, c := range r.Header.Values("Set-Cookie") {
		cookies = append(cookies, strings.SplitN(c, ";", 2)[0])
	}
	jar.Set("Cookie", strings.Join(cookies, "; "))

	// Passing through with the matcher.
	if r := f.serve(t, "/page", http.Header{"X-Skip": {"1"}}); r.Status != http.StatusOK {
		t.Fatalf("pass through: %s", r)
	}
	// A state for another nonce fails.
	raw, _ := base64.RawURLEncoding.DecodeString(q.Get("state"))
	var st map[string]string
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if r := f.serve(t, "/callback?code=c1&state="+q.Get("state"), nil); r.Status != http.StatusUnauthorized || string(r.Body) != "OAuth flow failed." {
		t.Fatalf("callback without the nonce cookie: %s", r)
	}
	r = f.serve(t, "/callback?code=c1&state="+q.Get("state"), jar)
	if r.Status != http.StatusFound || r.Header.Get("Location") != "http://app.test/page" {
		t.Fatalf("callback: %s", r)
	}
	f.mu.Lock()
	form, path := f.form, f.tokenReq.URL.Path
	f.mu.Unlock()
	if path != "/oauth/token" || form.Get("grant_type") != "authorization_code" || form.Get("code") != "c1" || form.Get("client_secret") != "" ||
		form.Get("redirect_uri") != "http://app.test/callback" || form.Get("code_verifier") == "" {
		t.Fatalf("token request %s %v", path, form)
	}
	cookies = nil
	for _, c := range r.Header.Values("Set-Cookie") {
		if !strings.Contains(c, "=deleted") {
			cookies = append(cookies, strings.SplitN(c, ";", 2)[0])
		}
	}
	session := http.Header{"Cookie": {strings.Join(cookies, "; ")}, "Authorization": {"Bearer mine"}}
	if r := f.serve(t, "/page", session); r.Status != http.StatusOK {
		t.Fatalf("with the session: %s", r)
	}
	f.mu.Lock()
	got := f.upstream
	f.mu.Unlock()
	if got.Get("Authorization") != "" || !strings.Contains(got.Get("Cookie"), "BearerToken=AT") || strings.Contains(got.Get("Cookie"), "OauthHMAC") {
		t.Fatalf("upstream got Authorization %q Cookie %q", got.Get("Authorization"), got.Get("Cookie"))
	}
	// Another host: the HMAC covers the host.
	r2, err := f.e.Serve(context.Background(), &Request{Method: "GET", Path: "/page", Host: "other.test", Header: session})
	if err != nil || r2.Status != http.StatusFound {
		t.Fatalf("session on another host: %v %v", r2, err)
	}
	if r := f.serve(t, "/signout", session); r.Status != http.StatusFound || r.Header.Get("Location") != "http://app.test/" || len(r.Header.Values("Set-Cookie")) != 5 {
		t.Fatalf("sign out: %s %v", r, r.Header)
	}
}

func TestOAuth2SecretsNotReady(t *testing.T) {
	f := newOAuthFixture(t, nil, false)
	if r := f.serve(t, "/page", nil); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("%s", r)
	}
}

func TestOAuth2RefusesWhatItDoesNotEmulate(t *testing.T) {
	f := newOAuthFixture(t, func(c *oauth2v3.OAuth2Config) { c.EndSessionEndpoint = "https://idp.test/logout" }, true)
	_, err := f.e.Serve(context.Background(), &Request{Method: "GET", Path: "/page", Host: "app.test"})
	if err == nil || !strings.Contains(err.Error(), "end_session_endpoint") {
		t.Fatalf("got %v", err)
	}
}

func TestOAuthEncryption(t *testing.T) {
	enc, err := oauthEncrypt("token-value", "k1")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := oauthDecrypt(enc, "k1"); err != nil || p != "token-value" {
		t.Fatalf("%q %v", p, err)
	}
	if p, err := oauthDecrypt(enc, "k2"); err == nil && p == "token-value" {
		t.Fatal("decrypted with another secret")
	}
	if _, err := oauthDecrypt("abc", "k1"); err == nil {
		t.Fatal("short input decrypted")
	}
}
