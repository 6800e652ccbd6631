package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/apigw/apigw/internal/envoysim"
)

// exampleCertificate is the pet store's certificate document (for
// petstore.example.com), to be applied with definitions of a test's own.
func exampleCertificate(t *testing.T) string {
	t.Helper()
	for _, d := range readDocs(t, exampleDir+"/01-group.yaml") {
		if d["kind"] == "certificate" {
			b, err := yaml.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatal("no certificate in the example")
	return ""
}

// serve sends one request to the emulated Envoy on a given listener port
// (0: the default HTTP or HTTPS listener).
func (w *fsWorld) serve(t *testing.T, req *envoysim.Request) *envoysim.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := w.envoy.Serve(ctx, req)
	if err != nil {
		t.Fatalf("%s %s%s (port %d): %v", req.Method, req.Host, req.Path, req.Port, err)
	}
	return resp
}

// waitHosts waits until the emulated Envoy has the scope of each host and
// its route configuration (apigw's default HTTP routing is scoped per
// host).
func (w *fsWorld) waitHosts(t *testing.T, hosts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := w.ads.WaitFor(ctx, func(c *envoysim.Config) error {
		for _, h := range hosts {
			found := false
			for _, sc := range c.Scopes {
				for _, f := range sc.GetKey().GetFragments() {
					found = found || f.GetStringKey() == h && c.Routes[sc.GetRouteConfigurationName()] != nil
				}
			}
			if !found {
				return fmt.Errorf("no scope with routes for %s", h)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// upstreamOf returns the backend path a response came from ("" if none).
func (w *fsWorld) upstreamOf(resp *envoysim.Response) (*backend, string) {
	b, got, ok := w.be.find(resp.Header.Get("X-Request-Id"))
	if !ok {
		return nil, ""
	}
	return b, got.Path
}

const redirectAPIs = `---
kind: api
name: both
group_id: failsafe
req_protocol: BOTH
req_method: GET
req_uri: /both
auth_type: NONE
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: /both, timeout: 5000}
---
kind: api
name: plain
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /plain
auth_type: NONE
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: /plain, timeout: 5000}
`

// A domain with is_http_redirect_to_https answers plain HTTP calls of the
// APIs that accept HTTPS with a 301 to the same URL over HTTPS (port of
// the HTTPS listener); the redirected URL is served; an HTTP-only API and
// the group's other domain are not redirected; nothing reaches a backend
// before the redirect.
func TestHTTPSRedirect(t *testing.T) {
	w := startFS(t, `
kind: group
id: failsafe
name: failsafe
url_domains:
  - domain: `+fsHost+`
  - domain: petstore.example.com
    ssl_id: petstore_cert
    is_http_redirect_to_https: true
---
`+exampleCertificate(t)+redirectAPIs)

	w.waitHosts(t, fsHost, "petstore.example.com")
	resp := w.serve(t, &envoysim.Request{Method: http.MethodGet, Host: "petstore.example.com", Path: "/both?x=1"})
	if resp.Status != http.StatusMovedPermanently {
		t.Fatalf("HTTP call of a redirecting domain: status %d, want 301\n%s", resp.Status, strings.Join(resp.Trace, "\n"))
	}
	want := fmt.Sprintf("https://petstore.example.com:%d/both?x=1", w.g.envoyHTTPS)
	if loc := resp.Header.Get("Location"); loc != want {
		t.Errorf("Location %q, want %q", loc, want)
	}
	if b, _ := w.upstreamOf(resp); b != nil {
		t.Errorf("backend %s received the redirected request", b.name)
	}

	// Following the redirect: HTTPS on that port, the same path.
	resp = w.serve(t, &envoysim.Request{Method: http.MethodGet, Host: "petstore.example.com", Path: "/both?x=1", TLS: true, Port: w.g.envoyHTTPS})
	if b, path := w.upstreamOf(resp); resp.Status != http.StatusOK || b != w.be.release || path != "/both" {
		t.Errorf("the redirect target: status %d, backend path %q\n%s", resp.Status, path, strings.Join(resp.Trace, "\n"))
	}

	for _, c := range []struct{ name, host, path string }{
		{"HTTP-only API", "petstore.example.com", "/plain"},
		{"domain without redirect", fsHost, "/both"},
	} {
		resp := w.serve(t, &envoysim.Request{Method: http.MethodGet, Host: c.host, Path: c.path})
		if b, path := w.upstreamOf(resp); resp.Status != http.StatusOK || b != w.be.release || path != c.path {
			t.Errorf("%s: status %d, backend path %q, want 200 from %s\n%s", c.name, resp.Status, path, c.path, strings.Join(resp.Trace, "\n"))
		}
	}

	// Unknown paths keep the group's NOT_FOUND response.
	resp = w.serve(t, &envoysim.Request{Method: http.MethodGet, Host: "petstore.example.com", Path: "/nowhere"})
	if resp.Status != http.StatusNotFound || !strings.Contains(string(resp.Body), "APIG.0101") {
		t.Errorf("unknown path: %d %s", resp.Status, resp.Body)
	}
}

// Custom inbound port numbers of TestCustomInboundPorts. Nothing binds
// them: the emulator selects a listener by its configured port.
const (
	customHTTPPort  = 9080
	customHTTPSPort = 9443
)

// Custom inbound ports: a domain bound to the instance's HTTP port 9080
// and HTTPS port 9443 is served there (HTTPS by its certificate) and no
// longer by the instance listeners; the group's other domain is not
// served on the custom ports.
func TestCustomInboundPorts(t *testing.T) {
	w := startFS(t, fmt.Sprintf(`
kind: instance
name: default
config:
  ingress_ports:
    - {protocol: HTTP, port: %d}
    - {protocol: HTTPS, port: %d}
---
kind: group
id: failsafe
name: failsafe
url_domains:
  - domain: %s
  - domain: petstore.example.com
    ssl_id: petstore_cert
    ingress_http_port: %d
    ingress_https_port: %d
---
`, customHTTPPort, customHTTPSPort, fsHost, customHTTPPort, customHTTPSPort)+exampleCertificate(t)+redirectAPIs)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := w.ads.WaitFor(ctx, func(c *envoysim.Config) error {
		for _, rc := range []string{"apigw.http:9080", "apigw.https:9443.failsafe"} {
			if c.Routes[rc] == nil {
				return fmt.Errorf("no route configuration %s", rc)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.waitHosts(t, fsHost)

	for _, c := range []struct {
		name string
		req  envoysim.Request
		path string // "" = not served (404)
	}{
		{"HTTP on the custom port", envoysim.Request{Host: "petstore.example.com", Path: "/both", Port: customHTTPPort}, "/both"},
		{"HTTPS on the custom port", envoysim.Request{Host: "petstore.example.com", Path: "/both", Port: customHTTPSPort, TLS: true}, "/both"},
		{"HTTP on the instance port", envoysim.Request{Host: "petstore.example.com", Path: "/both"}, ""},
		{"other domain on the custom port", envoysim.Request{Host: fsHost, Path: "/both", Port: customHTTPPort}, ""},
		{"other domain on the instance port", envoysim.Request{Host: fsHost, Path: "/both"}, "/both"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			req.Method = http.MethodGet
			resp := w.serve(t, &req)
			b, path := w.upstreamOf(resp)
			if c.path == "" {
				if resp.Status != http.StatusNotFound || b != nil {
					t.Errorf("status %d (backend path %q), want 404\n%s", resp.Status, path, strings.Join(resp.Trace, "\n"))
				}
				return
			}
			if resp.Status != http.StatusOK || b != w.be.release || path != c.path {
				t.Errorf("status %d, backend path %q, want 200 from %s\n%s", resp.Status, path, c.path, strings.Join(resp.Trace, "\n"))
			}
		})
	}

	// The instance HTTPS listener has no filter chain for the domain.
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if resp, err := w.envoy.Serve(ctx, &envoysim.Request{Method: http.MethodGet, Host: "petstore.example.com", Path: "/both", TLS: true}); err == nil {
		t.Errorf("HTTPS on the instance port answered %d", resp.Status)
	}
}
