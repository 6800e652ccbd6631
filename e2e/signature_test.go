package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/internal/sdkverify"
)

// verifySignedBackendRequest is the backend's side of a signature key:
// sdkverify, written from the documented SDK-HMAC-SHA256 algorithm, shares
// no code with apigw; X-Sdk-Date must be within 15 minutes of now.
func verifySignedBackendRequest(got received, authHeader string, secrets map[string]string, now time.Time) (string, error) {
	return sdkverify.Verify(sdkverify.Request{Method: got.Method, Path: got.Path, RawQuery: got.RawQuery, Header: got.Header.Get, Body: []byte(got.Body)},
		authHeader, secrets, now)
}

// A signature key bound to an API (docs/apig-semantics.md#backend-signature-keys):
// the backend receives requests signed by the gateway — after the backend
// method, path and query are final — and its own verifier accepts them;
// an API without a key gets no signature; the secret is never read back;
// the key cannot be deleted while bound.
func TestSignedBackendRequest(t *testing.T) {
	const secret = "backend_secret_0123"
	w := startFS(t, fsGroup+`---
kind: api
name: signed_order
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /orders/{id}
auth_type: NONE
req_params:
  - {name: id, location: PATH}
  - {name: trace, location: QUERY, pass_through: 2}
backend_api: {req_protocol: HTTP, req_method: POST, url_domain: "{release}", req_uri: "/v1/orders/{bid}", timeout: 5000}
backend_params:
  - {name: bid, location: PATH, origin: REQUEST, value: id}
  - {name: tenant, location: QUERY, origin: CONSTANT, value: "t 1"}
---
kind: api
name: plain_order
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /plain
auth_type: NONE
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: /plain, timeout: 5000}
---
kind: signature
name: gw_signer
sign_type: hmac
sign_key: gw_key_0001
sign_secret: `+secret+`
`)
	w.g.apigctl(t, "bind", "signature", "gw_signer", "--group", "failsafe", "--api", "signed_order")
	if out := w.g.apigctl(t, "get", "signature", "gw_signer", "-o", "yaml"); strings.Contains(out, secret) || !strings.Contains(out, "gw_key_0001") {
		t.Fatalf("apigctl get must show the key and never the secret:\n%s", out)
	}
	if out, id := w.g.apigctl(t, "describe", "signature", "gw_signer"), w.ids(t, "api")["signed_order"]; !strings.Contains(out, "Bound APIs") || !strings.Contains(out, id) || strings.Contains(out, secret) {
		t.Errorf("apigctl describe must list the bound API %s and never the secret:\n%s", id, out)
	}
	if out, code := w.g.apigctlCode(t, "delete", "signature", "gw_signer"); code == 0 {
		t.Fatalf("a bound signature key was deleted:\n%s", out)
	}
	w.waitRoutes(t, w.routes(t)...)
	ctx := time.Now()
	var r *result
	var got received
	// The binding reaches ext_authz through the snapshot; wait for it.
	for deadline := time.Now().Add(10 * time.Second); ; {
		r = w.call(t, call{method: "GET", path: "/orders/a%20b?q=x%20y&q=a&trace=1", header: http.Header{"Authorization": {"Bearer from-client"}}})
		wantStatus(t, r, http.StatusOK)
		var ok bool
		if _, got, ok = w.be.find(r.requestID); !ok {
			t.Fatalf("no backend received the request: %s", r)
		}
		if got.Header.Get("X-Sdk-Date") != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got.Method != "POST" || got.Path != "/v1/orders/a%20b" || strings.Contains(got.RawQuery, "trace") || !strings.Contains(got.RawQuery, "tenant=") {
		t.Fatalf("backend got %s %s?%s\n%s", got.Method, got.Path, got.RawQuery, r.trace)
	}
	secrets := map[string]string{"gw_key_0001": secret}
	if k, err := verifySignedBackendRequest(got, "Authorization", secrets, ctx); err != nil || k != "gw_key_0001" {
		t.Errorf("the backend rejects the gateway's signature: %v\nAuthorization: %s X-Sdk-Date: %s\n%s", err, got.Header.Get("Authorization"), got.Header.Get("X-Sdk-Date"), r.trace)
	}
	tampered := got
	tampered.RawQuery += "&injected=1"
	if _, err := verifySignedBackendRequest(tampered, "Authorization", secrets, ctx); err == nil {
		t.Error("the verifier accepts a changed query")
	}

	plain := w.call(t, call{method: "GET", path: "/plain"})
	wantStatus(t, plain, http.StatusOK)
	if _, pg, ok := w.be.find(plain.requestID); !ok || pg.Header.Get("X-Sdk-Date") != "" {
		t.Errorf("an API without a signature key got a signature (or no request): %v", pg.Header)
	}

	// Unbound, the key can be deleted and the API is no longer signed.
	w.g.apigctl(t, "unbind", "signature", "gw_signer", "--group", "failsafe", "--api", "signed_order")
	w.g.apigctl(t, "delete", "signature", "gw_signer")
	for deadline := time.Now().Add(10 * time.Second); ; {
		r = w.call(t, call{method: "GET", path: "/orders/1"})
		if r.status == http.StatusOK {
			if _, g2, ok := w.be.find(r.requestID); ok && g2.Header.Get("X-Sdk-Date") == "" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("still signed after unbind: %s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
