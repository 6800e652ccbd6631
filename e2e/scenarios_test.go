package e2e

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// world is what a scenario plays against.
type world struct {
	gw gateway
	g  *apigw
	be *backends
	ps *petstore
}

// scenarios are those of the top-level README's sample walk-through ("Try the
// sample"), run by both layers in this order (unpublished_api changes the
// configuration and restores it).
var scenarios = []struct {
	name string
	run  func(*testing.T, *world)
}{
	{"signed_call_maps_parameters", signedCall},
	{"signed_post_body", signedPost},
	{"bad_signature", badSignature},
	{"appcode_over_https", appCodeOverHTTPS},
	{"authorizer_allow_deny_cached", authorizerAllowDeny},
	{"throttled", throttled},
	{"special_app_quota", specialAppQuota},
	{"unknown_path", unknownPath},
	{"mock_api", mockAPI},
	{"debug_latency_headers", debugLatencyHeaders},
	{"policy_backend_by_source_ip", policyBySourceIP},
	{"load_balance_channel", loadBalanceChannel},
	{"x_stage_selects_environment", xStage},
	{"unpublished_api", unpublishedAPI},
	{"tls_domain", tlsDomain},
}

func runScenarios(t *testing.T, w *world) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) { s.run(t, w) })
	}
}

// upstream returns the backend request a response came from.
func (w *world) upstream(t *testing.T, r *result) (*backend, received) {
	t.Helper()
	b, got, ok := w.be.find(r.requestID)
	if !ok {
		t.Fatalf("no backend received request %s: %s", r.requestID, r)
	}
	return b, got
}

// noUpstream checks that no backend saw a request.
func (w *world) noUpstream(t *testing.T, r *result) {
	t.Helper()
	if b, _, ok := w.be.find(r.requestID); ok {
		t.Errorf("backend %s received request %s, which should have been answered by the gateway", b.name, r.requestID)
	}
}

func wantStatus(t *testing.T, r *result, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r)
	}
}

func wantHeader(t *testing.T, got received, name, want string) {
	t.Helper()
	if v := got.Header.Get(name); v != want {
		t.Errorf("backend header %s = %q, want %q (headers %v)", name, v, want, got.Header)
	}
}

func wantQuery(t *testing.T, got received, want url.Values) {
	t.Helper()
	q, err := url.ParseQuery(got.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if strings.Join(q[k], ",") != strings.Join(v, ",") {
			t.Errorf("backend query %s = %v, want %v (query %q)", k, q[k], v, got.RawQuery)
		}
	}
}

// A signed call is admitted and the backend receives the mapped
// parameters: path, query (limit → page_size, defaults), headers (request,
// constant and system values), host.
func signedCall(t *testing.T, w *world) {
	r := do(t, w.gw, call{path: "/pets?limit=10", header: http.Header{"X-Tenant": {"acme"}}, key: webKey, secret: webSecret})
	wantStatus(t, r, http.StatusOK)
	b, got := w.upstream(t, r)
	if b != w.be.release || got.Method != http.MethodGet || got.Path != "/v1/pets" {
		t.Fatalf("backend %s got %s %s, want release GET /v1/pets", b.name, got.Method, got.Path)
	}
	wantQuery(t, got, url.Values{"limit": {"10"}, "page_size": {"10"}})
	wantHeader(t, got, "X-Tenant-Id", "acme")
	wantHeader(t, got, "X-Tenant", "acme")
	wantHeader(t, got, "X-Gateway", "apigw")
	wantHeader(t, got, "X-App-Id", w.ps.apps["petstore_web"])
	wantHeader(t, got, "X-Stage-Name", "RELEASE")
	wantHeader(t, got, "X-Forwarded-Proto", "http")
	if got.Host != w.be.release.addr() {
		t.Errorf("backend Host %q, want the backend address %s", got.Host, w.be.release.addr())
	}
	if got.Header.Get("X-Apigw-Policy") != "" {
		t.Errorf("x-apigw-policy reached the backend")
	}

	// The default of an absent optional parameter is mapped and added.
	r = do(t, w.gw, call{path: "/pets", key: webKey, secret: webSecret})
	wantStatus(t, r, http.StatusOK)
	_, got = w.upstream(t, r)
	wantQuery(t, got, url.Values{"limit": {"20"}, "page_size": {"20"}})
	if got.Header.Get("X-Tenant-Id") != "" {
		t.Errorf("x-tenant-id set without X-Tenant: %v", got.Header)
	}

	// Parameter validation happens before the backend.
	r = do(t, w.gw, call{path: "/pets?limit=1000", key: webKey, secret: webSecret})
	apigError(t, r, http.StatusBadRequest, "APIG.0106")
	w.noUpstream(t, r)
}

// A signed POST: the signature covers the body, which reaches the backend.
func signedPost(t *testing.T, w *world) {
	body := `{"name":"Rex","tag":"dog"}`
	hdr := http.Header{"Content-Type": {"application/json"}}
	r := do(t, w.gw, call{method: http.MethodPost, path: "/pets", header: hdr, body: body, key: webKey, secret: webSecret})
	wantStatus(t, r, http.StatusOK)
	_, got := w.upstream(t, r)
	if got.Method != http.MethodPost || got.Path != "/v1/pets" || got.Body != body {
		t.Errorf("backend got %s %s %q", got.Method, got.Path, got.Body)
	}
	// A signed body beyond Envoy's default 1 MiB buffer reaches ext_authz
	// whole (the route raises the buffer limit to the 12 MiB ext_authz
	// asks for) and then the backend.
	big := `{"name":"` + strings.Repeat("x", 3<<20) + `"}`
	r = do(t, w.gw, call{method: http.MethodPost, path: "/pets", header: hdr, body: big, key: webKey, secret: webSecret})
	wantStatus(t, r, http.StatusOK)
	if _, got := w.upstream(t, r); len(got.Body) != len(big) {
		t.Errorf("backend got a %d-byte body, want %d", len(got.Body), len(big))
	}
	// Changing the body after signing breaks the signature.
	r = do(t, w.gw, call{method: http.MethodPost, path: "/pets", header: hdr, body: body, key: webKey, secret: webSecret,
		after: func(c *call) { c.body = `{"name":"Rex","tag":"cat"}` }})
	apigError(t, r, http.StatusUnauthorized, "APIG.0303")
	w.noUpstream(t, r)
}

// Wrong secret, no signature, a query changed after signing: 401 APIG.0303.
func badSignature(t *testing.T, w *world) {
	for name, c := range map[string]call{
		"wrong secret": {path: "/pets", key: webKey, secret: "not-the-secret"},
		"unsigned":     {path: "/pets"},
		"unknown key":  {path: "/pets", key: "no-such-key", secret: webSecret},
		"query changed": {path: "/pets?limit=5", key: webKey, secret: webSecret,
			after: func(c *call) { c.path = "/pets?limit=6" }},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			r := do(t, w.gw, c)
			apigError(t, r, http.StatusUnauthorized, "APIG.0303")
			w.noUpstream(t, r)
		})
	}
}

// AppCode authentication works over HTTPS only; path parameters reach the
// backend path.
func appCodeOverHTTPS(t *testing.T, w *world) {
	code := http.Header{"X-Apig-AppCode": {webAppCode}}
	r := do(t, w.gw, call{path: "/pets/42", header: code, tls: true})
	wantStatus(t, r, http.StatusOK)
	b, got := w.upstream(t, r)
	if b != w.be.release || got.Path != "/v1/pets/42" {
		t.Errorf("backend %s got %s", b.name, got.Path)
	}
	wantHeader(t, got, "X-Forwarded-Proto", "https")

	r = do(t, w.gw, call{path: "/pets/42", header: code})
	apigError(t, r, http.StatusUnauthorized, "APIG.0303")
	r = do(t, w.gw, call{path: "/pets/42", header: http.Header{"X-Apig-AppCode": {strings.Repeat("x", 64)}}, tls: true})
	apigError(t, r, http.StatusUnauthorized, "APIG.0303")
	r = do(t, w.gw, call{path: "/pets/abc", header: code, tls: true})
	apigError(t, r, http.StatusBadRequest, "APIG.0106")
	w.noUpstream(t, r)
}

// The custom authorizer allows (its context reaches the backend) and
// denies (403 from the group's response set); both are cached.
func authorizerAllowDeny(t *testing.T, w *world) {
	alice, bad := "Bearer demo-token-alice", "Bearer not-a-token"
	for i := range 2 {
		r := do(t, w.gw, call{path: "/store/orders/7", header: http.Header{"Authorization": {alice}}})
		wantStatus(t, r, http.StatusOK)
		_, got := w.upstream(t, r)
		if got.Path != "/v1/store/orders/7" {
			t.Errorf("backend path %s", got.Path)
		}
		wantHeader(t, got, "X-User", "alice")
		if n := w.be.auth.callsFor(alice); n != 1 {
			t.Errorf("call %d: the authorizer saw the token %d times, want 1 (cached)", i+1, n)
		}
	}
	for i := range 2 {
		r := do(t, w.gw, call{path: "/store/orders/7", header: http.Header{"Authorization": {bad}}})
		apigError(t, r, http.StatusForbidden, "APIG.0305")
		w.noUpstream(t, r)
		if n := w.be.auth.callsFor(bad); n != 1 {
			t.Errorf("denial %d: the authorizer saw the token %d times, want 1 (cached)", i+1, n)
		}
	}
	r := do(t, w.gw, call{path: "/store/orders/7"})
	apigError(t, r, http.StatusUnauthorized, "APIG.0305")
	if n := w.be.auth.callsFor(""); n != 0 {
		t.Errorf("the authorizer was called without an identity")
	}
	// A client-sent X-User never reaches the backend beside the value
	// ext_authz sets from the authorizer's context.
	r = do(t, w.gw, call{path: "/store/orders/8", header: http.Header{"Authorization": {"Bearer demo-token-bob"}, "X-User": {"alice"}}})
	wantStatus(t, r, http.StatusOK)
	_, got := w.upstream(t, r)
	if vs := got.Header.Values("X-User"); len(vs) != 1 || vs[0] != "bob" {
		t.Errorf("backend header X-User = %q, want only %q", vs, "bob")
	}
}

// callUntilThrottled calls GET /store/inventory as an app and returns the
// statuses until the first non-200 (at most max calls).
func callUntilThrottled(t *testing.T, w *world, key, secret string, max int) (int, *result) {
	t.Helper()
	for i := 1; i <= max; i++ {
		r := do(t, w.gw, call{path: "/store/inventory", key: key, secret: secret})
		if r.status != http.StatusOK {
			return i - 1, r
		}
	}
	return max, nil
}

// 3 calls a minute per app: the 4th is 429 APIG.0308 and never reaches the
// backend.
func throttled(t *testing.T, w *world) {
	ok, r := callUntilThrottled(t, w, webKey, webSecret, 10)
	if ok != 3 || r == nil {
		t.Fatalf("%d calls admitted before the limit, want 3 (last: %v)", ok, r)
	}
	apigError(t, r, http.StatusTooManyRequests, "APIG.0308")
	w.noUpstream(t, r)
}

// The partner app's special quota (6) replaces the app limit (3).
func specialAppQuota(t *testing.T, w *world) {
	ok, r := callUntilThrottled(t, w, partnerKey, partnerSecret, 12)
	if ok != 6 || r == nil {
		t.Fatalf("%d calls admitted for the partner, want 6 (last: %v)", ok, r)
	}
	apigError(t, r, http.StatusTooManyRequests, "APIG.0308")
}

// Unknown paths, methods and hosts: 404 APIG.0101.
func unknownPath(t *testing.T, w *world) {
	for _, c := range []call{
		{path: "/no/such/path"},
		{method: http.MethodDelete, path: "/pets"},
		{path: "/pets", host: "unknown.example.com"},
	} {
		r := do(t, w.gw, c)
		apigError(t, r, http.StatusNotFound, "APIG.0101")
		w.noUpstream(t, r)
	}
}

// A mock API is answered by Envoy with its body and headers.
func mockAPI(t *testing.T, w *world) {
	r := do(t, w.gw, call{path: "/health"})
	wantStatus(t, r, http.StatusOK)
	if string(bytes.TrimSpace(r.body)) != `{"status":"ok","service":"petstore"}` || r.header.Get("X-Mock") != "true" ||
		r.header.Get("Content-Type") != "application/json" {
		t.Errorf("mock response: %s %v", r, r.header)
	}
	w.noUpstream(t, r)
}

// The office network (source IP) is served by the canary backend; others
// by the load-balance channel. A real Envoy sees 127.0.0.1 only.
func policyBySourceIP(t *testing.T, w *world) {
	if w.gw.protocolLevel() {
		r := do(t, w.gw, call{path: "/catalog", source: "10.1.2.3"})
		wantStatus(t, r, http.StatusOK)
		b, got := w.upstream(t, r)
		if b != w.be.canary || got.Path != "/v2/catalog" {
			t.Errorf("office caller served by %s %s, want canary /v2/catalog", b.name, got.Path)
		}
		if got.Header.Get("X-Apigw-Policy") != "" {
			t.Errorf("x-apigw-policy reached the backend")
		}
	}
	r := do(t, w.gw, call{path: "/catalog", source: "198.51.100.7"})
	wantStatus(t, r, http.StatusOK)
	b, got := w.upstream(t, r)
	if (b != w.be.poolA && b != w.be.poolB) || got.Path != "/v1/catalog" {
		t.Errorf("outside caller served by %s %s, want the channel /v1/catalog", b.name, got.Path)
	}
	// A client cannot pick the policy itself.
	r = do(t, w.gw, call{path: "/catalog", source: "198.51.100.7", header: http.Header{"X-Apigw-Policy": {"office"}}})
	wantStatus(t, r, http.StatusOK)
	if b, _ := w.upstream(t, r); b == w.be.canary {
		t.Errorf("a client header selected the office policy")
	}
}

// Both members of the channel receive requests.
func loadBalanceChannel(t *testing.T, w *world) {
	seen := map[*backend]int{}
	for range 8 {
		r := do(t, w.gw, call{path: "/catalog", source: "198.51.100.8"})
		wantStatus(t, r, http.StatusOK)
		b, _ := w.upstream(t, r)
		seen[b]++
	}
	if seen[w.be.poolA] == 0 || seen[w.be.poolB] == 0 || len(seen) != 2 {
		t.Errorf("requests per member: pool-a %d, pool-b %d (others: %d)", seen[w.be.poolA], seen[w.be.poolB], len(seen)-2)
	}
}

// X-Stage selects the TEST environment and its backend.
func xStage(t *testing.T, w *world) {
	r := do(t, w.gw, call{path: "/pets", header: http.Header{"X-Stage": {"TEST"}}, key: webKey, secret: webSecret})
	wantStatus(t, r, http.StatusOK)
	b, got := w.upstream(t, r)
	if b != w.be.test {
		t.Errorf("X-Stage TEST served by %s", b.name)
	}
	wantHeader(t, got, "X-Stage-Name", "TEST")
	r = do(t, w.gw, call{path: "/pets/5", header: http.Header{"X-Stage": {"TEST"}, "X-Apig-AppCode": {webAppCode}}, tls: true})
	wantStatus(t, r, http.StatusOK)
	if b, _ := w.upstream(t, r); b != w.be.test {
		t.Errorf("AppCode call with X-Stage TEST served by %s", b.name)
	}
	r = do(t, w.gw, call{path: "/pets", header: http.Header{"X-Stage": {"NOPE"}}, key: webKey, secret: webSecret})
	apigError(t, r, http.StatusNotFound, "APIG.0101")
}

// An API not published in an environment is 404; unpublishing takes a
// route away and publishing brings it back.
func unpublishedAPI(t *testing.T, w *world) {
	r := do(t, w.gw, call{path: "/store/inventory", header: http.Header{"X-Stage": {"TEST"}}, key: webKey, secret: webSecret})
	apigError(t, r, http.StatusNotFound, "APIG.0101")
	w.noUpstream(t, r)

	w.g.apigctl(t, "unpublish", "get_catalog", "--group", "petstore")
	eventually(t, 15*time.Second, func() error {
		r := do(t, w.gw, call{path: "/catalog"})
		if r.status != http.StatusNotFound {
			return fmt.Errorf("still %s", r)
		}
		apigError(t, r, http.StatusNotFound, "APIG.0101")
		return nil
	})
	w.g.apigctl(t, "publish", "get_catalog", "--group", "petstore")
	eventually(t, 15*time.Second, func() error {
		if r := do(t, w.gw, call{path: "/catalog"}); r.status != http.StatusOK {
			return fmt.Errorf("still %s", r)
		}
		return nil
	})
}

// The group's domain is served over HTTPS with its certificate (chosen by
// SNI); an SNI without a certificate gets no TLS service.
func tlsDomain(t *testing.T, w *world) {
	r := do(t, w.gw, call{path: "/health", tls: true})
	wantStatus(t, r, http.StatusOK)
	if r.cert == nil {
		t.Fatal("no server certificate")
	}
	if err := r.cert.VerifyHostname(petstoreHost); err != nil {
		t.Error(err)
	}
	pemBytes, err := os.ReadFile(exampleDir + "/petstore.example.com.crt")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil || !bytes.Equal(block.Bytes, r.cert.Raw) {
		t.Error("the server certificate is not examples/petstore/petstore.example.com.crt")
	}
	if r, err := try(t, w.gw, call{path: "/health", tls: true, sni: "unknown.example.com"}); err == nil {
		t.Errorf("TLS with an unknown SNI answered: %s", r)
	}
}
