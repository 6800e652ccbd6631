package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// sigAuthPattern is how Huawei's backend verification samples read the
// gateway's signature.
var sigAuthPattern = regexp.MustCompile(`^SDK-HMAC-SHA256\s+Access=([^,]+),\s?SignedHeaders=([^,]+),\s?Signature=(\w+)$`)

// verifySignedBackendRequest is the backend side of a signature key,
// written from the documented SDK-HMAC-SHA256 algorithm and sharing no
// code with apigw: it recomputes the signature of the request as the
// backend received it and checks X-Sdk-Date within 15 minutes.
func verifySignedBackendRequest(got received, authHeader string, secrets map[string]string, now time.Time) (string, error) {
	m := sigAuthPattern.FindStringSubmatch(got.Header.Get(authHeader))
	if m == nil {
		return "", errors.New("no SDK-HMAC-SHA256 signature in " + authHeader)
	}
	key, signed, sig := m[1], m[2], m[3]
	secret, ok := secrets[key]
	if !ok {
		return "", errors.New("unknown key " + key)
	}
	date := got.Header.Get("X-Sdk-Date")
	at, err := time.Parse("20060102T150405Z", date)
	if err != nil {
		return "", err
	}
	if d := now.Sub(at); d > 15*time.Minute || d < -15*time.Minute {
		return "", errors.New("X-Sdk-Date is more than 15 minutes away")
	}
	enc := func(s string) string {
		return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	}
	segs := strings.Split(got.Path, "/")
	for i, s := range segs {
		d, err := url.PathUnescape(s)
		if err != nil {
			return "", err
		}
		segs[i] = enc(d)
	}
	uri := strings.Join(segs, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	q, err := url.ParseQuery(got.RawQuery)
	if err != nil {
		return "", err
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, enc(k)+"="+enc(v))
		}
	}
	var hdrs strings.Builder
	for _, h := range strings.Split(signed, ";") {
		hdrs.WriteString(h + ":" + strings.TrimSpace(got.Header.Get(h)) + "\n")
	}
	payload := got.Header.Get("X-Sdk-Content-Sha256")
	if payload != "UNSIGNED-PAYLOAD" {
		sum := sha256.Sum256([]byte(got.Body))
		payload = hex.EncodeToString(sum[:])
	}
	cr := got.Method + "\n" + uri + "\n" + strings.Join(pairs, "&") + "\n" + hdrs.String() + "\n" + signed + "\n" + payload
	crSum := sha256.Sum256([]byte(cr))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("SDK-HMAC-SHA256\n" + date + "\n" + hex.EncodeToString(crSum[:])))
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(sig)) {
		return "", errors.New("signature mismatch")
	}
	return key, nil
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
