package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apigw/apigw/internal/envoysim"
)

// httpFront serves real HTTP in front of the emulated Envoy's plain-text
// listener, so that HTTP clients such as apigctl call can be used at the
// protocol level: each request is handed to envoysim as received (method,
// target, Host, headers, body, client address).
func httpFront(t *testing.T, envoy *envoysim.Envoy) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h := r.Header.Clone()
		resp, err := envoy.Serve(r.Context(), &envoysim.Request{Method: r.Method, Path: r.RequestURI, Host: r.Host, Header: h, Body: body, Source: r.RemoteAddr})
		if err != nil {
			http.Error(w, "envoysim: "+err.Error(), http.StatusBadGateway)
			return
		}
		for k, vs := range resp.Header {
			if strings.HasPrefix(k, ":") {
				continue
			}
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// signedCallWithApigctl runs the quick start's signed call with apigctl
// (signing with extauth/sign) through the front: ext_authz verifies the
// signature and the backend answers.
func signedCallWithApigctl(t *testing.T, g *apigw, front string) {
	t.Helper()
	out := g.apigctl(t, "call", front+"/pets?limit=5", "-H", "Host: "+petstoreHost, "-H", "X-Tenant: acme",
		"--app-key", webKey, "--app-secret", webSecret, "--fail")
	if !strings.Contains(out, `"backend":"release"`) {
		t.Errorf("apigctl call through the emulated Envoy: %s", out)
	}
	bad, code := g.apigctlCode(t, "call", front+"/pets?limit=5", "-H", "Host: "+petstoreHost, "-H", "X-Tenant: acme",
		"--app-key", webKey, "--app-secret", "not-the-secret-1", "--fail")
	if code == 0 || !strings.Contains(bad, "APIG.0303") {
		t.Errorf("apigctl call with a wrong secret must be refused with APIG.0303: %s", bad)
	}
}
