package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

const appRouteDefs = `
kind: instance
name: default
config:
  default_group_hosts: [` + gatewayIP + `]
  app_route: true
---
kind: group
name: DEFAULT
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
name: order
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /orders/{id}
auth_type: APP
req_params:
  - {name: id, location: PATH, type: STRING}
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: "/backend/orders/{id}", timeout: 5000}
---
kind: app
name: route_app
app_key: approute-app-key
app_secret: approute-app-secret-1
---
kind: app
name: stranger_app
app_key: stranger-app-key
app_secret: stranger-app-secret-1
---
kind: app_auth
api_id: order
env_id: RELEASE
app_id: route_app
`

// With app_route a signed call to the gateway address reaches the APP API
// of another group the app is authorized for (through the copy of its
// routes guarded by the header ext_authz sets); an unsigned call, an app
// authorized for nothing and a forged selection header get APIG errors,
// the DEFAULT group's API is still served, and with app_route turned off
// the API is no longer reachable by the gateway address. It runs with
// scoped routes (Envoy 1.40) and one RouteConfiguration (Envoy 1.37).
func TestAppRoute(t *testing.T) {
	for _, version := range []string{xdstest.EnvoyVersion, "1.37.2"} {
		t.Run("envoy-"+version, func(t *testing.T) { testAppRoute(t, version) })
	}
}

func testAppRoute(t *testing.T, version string) {
	w := &fsWorld{g: startAPIGW(t), be: newBackends(t)}
	w.apply(t, appRouteDefs)
	w.g.apigctl(t, "publish", "--all", "--group", "DEFAULT")
	w.g.apigctl(t, "publish", "--all", "--group", "failsafe")
	w.connectAs(t, version, append(w.routes(t), "approute.catchall")...)
	if version == xdstest.EnvoyVersion {
		w.waitHosts(t, gatewayIP, fsHost)
		if got := scopeRC(w.ads.Config(), gatewayIP); got != translate.RouteHTTPAppRoute {
			t.Fatalf("scope of %s selects %q, want %s", gatewayIP, got, translate.RouteHTTPAppRoute)
		}
	}
	app := call{method: http.MethodGet, host: gatewayIP, path: "/orders/7", key: "approute-app-key", secret: "approute-app-secret-1"}

	r := w.call(t, app)
	wantStatus(t, r, http.StatusOK)
	b, got, ok := w.be.find(r.requestID)
	if !ok || b != w.be.release || got.Path != "/backend/orders/7" {
		t.Fatalf("signed call by the gateway address: backend %v %v, want /backend/orders/7\n%s", ok, got, r.trace)
	}
	if !strings.HasSuffix(r.route, ".approute") {
		t.Errorf("served by route %q, want a guarded copy (*.approute)", r.route)
	}
	if v := got.Header.Get(dataplane.ExtAuthzAppRouteHeader); v != "" {
		t.Errorf("the selection header reached the backend: %q", v)
	}

	wantStatus(t, w.call(t, call{method: http.MethodGet, host: gatewayIP, path: "/by-ip"}), http.StatusOK)
	bound := app
	bound.host = fsHost
	wantStatus(t, w.call(t, bound), http.StatusOK)

	unsigned := app
	unsigned.key, unsigned.secret = "", ""
	apigError(t, w.call(t, unsigned), http.StatusUnauthorized, "APIG.0303")
	stranger := app
	stranger.key, stranger.secret = "stranger-app-key", "stranger-app-secret-1"
	apigError(t, w.call(t, stranger), http.StatusNotFound, "APIG.0101")
	forged := app
	forged.header = http.Header{"X-Apigw-App-Route": {w.ids(t, "api")["order"]}}
	apigError(t, w.call(t, forged), http.StatusNotFound, "APIG.0101")
	unknown := app
	unknown.path = "/unknown"
	apigError(t, w.call(t, unknown), http.StatusNotFound, "APIG.0101")

	// app_route off: the gateway address serves the DEFAULT group only.
	w.apply(t, "kind: instance\nname: default\nconfig:\n  default_group_hosts: ["+gatewayIP+"]\n  app_route: false\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	defaultVhost := "group." + w.ids(t, "group")["DEFAULT"]
	if _, err := w.ads.WaitFor(ctx, func(c *envoysim.Config) error {
		for _, rc := range c.Routes {
			for _, vh := range rc.GetVirtualHosts() {
				for _, rt := range vh.GetRoutes() {
					if rt.GetName() == "approute.catchall" {
						return fmt.Errorf("route %s still present", rt.GetName())
					}
				}
			}
		}
		if got := hostVhost(c, version, gatewayIP); got != defaultVhost {
			return fmt.Errorf("%s served by virtual host %q, want %s", gatewayIP, got, defaultVhost)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	apigError(t, w.call(t, app), http.StatusNotFound, "APIG.0101")
	wantStatus(t, w.call(t, call{method: http.MethodGet, host: gatewayIP, path: "/by-ip"}), http.StatusOK)
}

// scopeRC is the RouteConfiguration the scope of a host selects.
func scopeRC(c *envoysim.Config, host string) string {
	for _, sc := range c.Scopes {
		for _, f := range sc.GetKey().GetFragments() {
			if f.GetStringKey() == host {
				return sc.GetRouteConfigurationName()
			}
		}
	}
	return ""
}

// hostVhost is the virtual host that serves a host on the HTTP listener:
// through its scope (Envoy 1.38 and newer) or in apigw.http.
func hostVhost(c *envoysim.Config, version, host string) string {
	rcName := translate.RouteHTTP
	if version == xdstest.EnvoyVersion {
		rcName = scopeRC(c, host)
	}
	for _, vh := range c.Routes[rcName].GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			if d == host {
				return vh.GetName()
			}
		}
	}
	return ""
}
