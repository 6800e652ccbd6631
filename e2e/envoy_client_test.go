package e2e

import (
	"bytes"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apigw/apigw/internal/testutil"
)

// The real-Envoy layer's client: the Host header, TLS by SNI verified
// against the example certificate, and a refused SNI. Checked against a
// local TLS server serving the example certificate, so that the client
// is tested where no Envoy is available.
func TestEnvoyGatewayClient(t *testing.T) {
	var cert tls.Certificate
	for _, d := range readDocs(t, exampleDir+"/01-group.yaml") {
		if d["kind"] == "certificate" {
			var err error
			if cert, err = tls.X509KeyPair([]byte(d["cert_content"].(string)), []byte(d["private_key"].(string))); err != nil {
				t.Fatal(err)
			}
		}
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Request-Id", "r1")
		_, _ = io.WriteString(w, r.Host+" "+r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-A")+" "+string(body))
	})
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	secure := httptest.NewUnstartedServer(handler)
	secure.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	secure.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	secure.StartTLS()
	t.Cleanup(secure.Close)

	g := &apigw{envoyHTTP: testutil.Port(plain.Listener.Addr().String()), envoyHTTPS: testutil.Port(secure.Listener.Addr().String())}
	gw := newEnvoyGateway(t, g)
	r := do(t, gw, call{method: http.MethodPost, path: "/pets?x=1", header: http.Header{"X-A": {"b"}}, body: "hi"})
	if string(r.body) != petstoreHost+" POST /pets?x=1 b hi" || r.requestID != "r1" {
		t.Errorf("plain: %s", r)
	}
	r = do(t, gw, call{path: "/health", tls: true})
	if !strings.HasPrefix(string(r.body), petstoreHost+" GET /health") || r.cert == nil || !bytes.Equal(r.cert.Raw, cert.Certificate[0]) {
		t.Errorf("TLS: %s", r)
	}
	if _, err := try(t, gw, call{path: "/health", tls: true, sni: "unknown.example.com"}); err == nil {
		t.Error("a certificate that does not cover the SNI was accepted")
	}
}
