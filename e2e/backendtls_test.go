package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/certgen"
	"github.com/apigw/apigw/internal/certgen/certgentest"
	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/xds/translate"
)

// A backend that requires a client certificate: the API with
// enable_client_ssl reaches it with the instance's backend client
// certificate (served to the emulated Envoy over SDS), verified against
// the instance's backend CA; the same backend called without
// enable_client_ssl refuses the handshake, and an API with
// enable_client_ssl is refused while the instance has no certificate.
func TestBackendClientCertificate(t *testing.T) {
	pki := certgentest.PKI(t)
	var seen []string
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			seen = append(seen, r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"mtls":true}`))
	}))
	be.TLS = certgentest.ServerTLS(t, pki)
	be.TLS.NextProtos = []string{"http/1.1"}
	be.StartTLS()
	t.Cleanup(be.Close)
	addr := strings.TrimPrefix(be.URL, "https://")

	read := func(parts ...string) string {
		b, err := os.ReadFile(filepath.Join(append([]string{pki}, parts...)...))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	indent := func(s string) string { return "      " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n      ") }
	envoyDir := certgen.EnvoySubdir("default")
	api := func(name, uri string, clientSSL bool) string {
		ssl := "false"
		if clientSSL {
			ssl = "true"
		}
		return `---
kind: api
name: ` + name + `
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: ` + uri + `
auth_type: NONE
backend_api: {req_protocol: HTTPS, req_method: GET, url_domain: "` + addr + `", req_uri: /, timeout: 5000, enable_client_ssl: ` + ssl + `}
`
	}

	w := &fsWorld{g: startAPIGW(t), be: newBackends(t)}
	// Without the instance's certificate the API is refused when written.
	f := filepath.Join(t.TempDir(), "refused.yaml")
	if err := os.WriteFile(f, []byte(fsGroup+api("mtls", "/mtls", true)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := w.g.apigctlCode(t, "apply", "-f", f)
	if code == 0 || !strings.Contains(out, "backend_api.enable_client_ssl") || !strings.Contains(out, "backend client certificate") {
		t.Fatalf("apply without the instance certificate: exit %d\n%s", code, out)
	}

	w.apply(t, `kind: instance
name: default
config:
  backend_tls:
    client_certificate: |
`+indent(read(envoyDir, dataplane.TLSCertFile))+`
    client_private_key: |
`+indent(read(envoyDir, dataplane.TLSKeyFile))+`
    ca: |
`+indent(read(dataplane.TLSCAFile))+`
---
`+fsGroup+api("mtls", "/mtls", true)+api("plain", "/plain", false))
	w.publish(t)
	// The routes can arrive before the client certificate's secret (SDS
	// over ADS): wait for it too.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := w.ads.WaitFor(ctx, func(c *envoysim.Config) error {
		if c.Secrets[translate.BackendClientSecret] == nil {
			return fmt.Errorf("no secret %s", translate.BackendClientSecret)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	r := w.call(t, call{path: "/mtls"})
	wantStatus(t, r, http.StatusOK)
	if len(seen) != 1 || seen[0] == "" {
		t.Errorf("the backend saw client certificates %q, want the instance's", seen)
	}
	r = w.call(t, call{path: "/plain"})
	if r.status == http.StatusOK || len(seen) != 1 {
		t.Errorf("without enable_client_ssl the backend must refuse the handshake: %s (client certificates seen %q)", r, seen)
	}
	// The private key never leaves apigw in a read.
	if got := w.g.apigctl(t, "get", "instance", "default", "-o", "yaml"); strings.Contains(got, "PRIVATE KEY") {
		t.Errorf("the instance's private key is returned by a read:\n%s", got)
	}
}
