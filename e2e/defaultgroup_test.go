package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

// gatewayIP is the gateway address of TestDefaultGroup (an address of the
// documentation range: the emulator selects by Host, nothing connects).
const gatewayIP = "192.0.2.10"

const defaultGroupDefs = `
kind: instance
name: default
config:
  default_group_hosts: [` + gatewayIP + `]
---
kind: group
name: DEFAULT
remark: the instance's built-in DEFAULT group
---
kind: api
name: by_ip
group_id: DEFAULT
req_protocol: HTTP
req_method: GET
req_uri: /by-ip
auth_type: NONE
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: /by-ip, timeout: 5000}
---
kind: group
id: failsafe
name: failsafe
url_domains:
  - domain: ` + fsHost + `
---
kind: api
name: by_domain
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /by-domain
auth_type: NONE
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: /by-domain, timeout: 5000}
`

// The DEFAULT group answers calls whose Host is a gateway address (any
// port); a bound domain still routes to its own group; another group's
// API is not reachable by the gateway address, and neither an unknown
// host nor an address that is not listed reaches the DEFAULT group.
// It runs as Envoy 1.40 (scoped routes: the addresses are scope keys) and
// as Envoy 1.37 (one RouteConfiguration: they are virtual-host domains).
func TestDefaultGroup(t *testing.T) {
	for _, version := range []string{xdstest.EnvoyVersion, "1.37.2"} {
		t.Run("envoy-"+version, func(t *testing.T) { testDefaultGroup(t, version) })
	}
}

func testDefaultGroup(t *testing.T, version string) {
	w := &fsWorld{g: startAPIGW(t), be: newBackends(t)}
	w.apply(t, defaultGroupDefs)
	w.g.apigctl(t, "publish", "--all", "--group", "DEFAULT")
	w.g.apigctl(t, "publish", "--all", "--group", "failsafe")
	w.connectAs(t, version, w.routes(t)...)
	if version == xdstest.EnvoyVersion {
		w.waitHosts(t, gatewayIP, fsHost)
	} else if _, ok := w.ads.Config().Routes[translate.RouteHTTP]; !ok {
		t.Fatalf("Envoy %s: no RouteConfiguration %s (single routing)", version, translate.RouteHTTP)
	}

	for _, c := range []struct {
		name, host, path string
		served           bool
	}{
		{"DEFAULT API by the gateway address", gatewayIP, "/by-ip", true},
		{"DEFAULT API by the gateway address and a port", gatewayIP + ":8080", "/by-ip", true},
		{"bound domain to its own group", fsHost, "/by-domain", true},
		{"other group's API by the gateway address", gatewayIP, "/by-domain", false},
		{"DEFAULT API by another group's domain", fsHost, "/by-ip", false},
		{"DEFAULT API by an unknown host", "unknown.example.com", "/by-ip", false},
		{"DEFAULT API by an address that is not listed", "192.0.2.11", "/by-ip", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := w.serve(t, &envoysim.Request{Method: http.MethodGet, Host: c.host, Path: c.path})
			b, path := w.upstreamOf(resp)
			if !c.served {
				if resp.Status != http.StatusNotFound || b != nil || !strings.Contains(string(resp.Body), "APIG.0101") {
					t.Errorf("status %d (backend path %q) %s, want 404 APIG.0101\n%s", resp.Status, path, resp.Body, strings.Join(resp.Trace, "\n"))
				}
				return
			}
			if resp.Status != http.StatusOK || b != w.be.release || path != c.path {
				t.Errorf("status %d, backend path %q, want 200 from %s\n%s", resp.Status, path, c.path, strings.Join(resp.Trace, "\n"))
			}
		})
	}
}
