package extauth_test

import (
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const gatewayAddr = "192.0.2.10"

// appRouteFixture is the fixture with a DEFAULT group (gd) and app_route
// on (or off): the APP APIs of group g1 become reachable by the gateway
// address for the apps authorized for them.
func appRouteFixture(on bool) *fixture {
	f := newFixture("", &apigwv1.InstanceConfig{AppRoute: on, DefaultGroupHosts: []string{gatewayAddr}})
	f.add(&apigwv1.ApiGroup{Id: "gd", Name: model.DefaultGroupName})
	// A literal path beside api-sig's /items/{id}: the more specific wins.
	f.api(&apigwv1.Api{Id: "api-special", Name: "special_item", ReqUri: "/items/special", AuthType: model.AuthApp})
	f.authorize("app1", "api-special")
	return f
}

// appRouteRequest is a request to the gateway address that reached the
// catch-all route: signed for the app (key, secret; unsigned when key is
// "").
func appRouteRequest(method, path, key, secret string, hdrs map[string]string) *authv3.CheckRequest {
	r := envoyRequest{method: method, scheme: "http", host: gatewayAddr, path: path, headers: hdrs}
	if key != "" {
		r.headers = sdkSign(method, "http://"+gatewayAddr+path, hdrs, "", key, secret, testNow)
	}
	cr := r.checkRequest()
	cr.Attributes.ContextExtensions = map[string]string{
		dataplane.ExtAuthzCtxInstance: model.DefaultInstance, dataplane.ExtAuthzCtxGroup: "gd", dataplane.ExtAuthzCtxAppRoute: "1",
	}
	return cr
}

// On the catch-all route of the gateway addresses ext_authz authenticates
// the app, picks the APP API of another group it is authorized for whose
// method and path match, runs that API's checks and names it in
// x-apigw-app-route; anything else is denied with APIG errors.
func TestAppRouteSelection(t *testing.T) {
	h := newHarness(t, appRouteFixture(true).instance(t))
	for _, c := range []struct {
		name, method, path, api string
	}{
		{"parameter path", "GET", "/items/7", "api-sig"},
		{"literal before parameter", "GET", "/items/special", "api-special"},
		{"method", "POST", "/orders", "api-post"},
	} {
		a := allowedResp(t, h.check(appRouteRequest(c.method, c.path, key1, secret1, nil)))
		if got := a.headers[dataplane.ExtAuthzAppRouteHeader]; got != c.api {
			t.Errorf("%s: %s = %q, want %q", c.name, dataplane.ExtAuthzAppRouteHeader, got, c.api)
		}
		if a.meta[dataplane.ExtAuthzMetaAPIID] != c.api || a.meta[dataplane.ExtAuthzMetaAppID] != "app1" {
			t.Errorf("%s: metadata %v", c.name, a.meta)
		}
	}
	// The chosen API's own checks run: api-sig maps the app id.
	if a := allowedResp(t, h.check(appRouteRequest("GET", "/items/7", key1, secret1, nil))); a.headers["x-app-id"] != "app1" {
		t.Errorf("api-sig's backend parameter not mapped: %v", a.headers)
	}
	// An X-Stage without the API published there: none.
	if st, b, _ := denied(t, h.check(appRouteRequest("GET", "/items/7", key1, secret1, map[string]string{"X-Stage": "TEST"}))); st != 404 || b.Code != "APIG.0101" {
		t.Errorf("other stage: %d %+v", st, b)
	}
	for _, c := range []struct {
		name, method, path, key, secret string
		status                          int
		code                            string
	}{
		{"unsigned", "GET", "/items/7", "", "", 401, "APIG.0303"},
		{"bad signature", "GET", "/items/7", key1, "wrong-secret-000", 401, "APIG.0303"},
		{"app authorized for nothing", "GET", "/items/7", key2, secret2, 404, "APIG.0101"},
		{"no API with that method", "DELETE", "/orders", key1, secret1, 404, "APIG.0101"},
		{"no API with that path", "GET", "/nothing", key1, secret1, 404, "APIG.0101"},
	} {
		st, b, _ := denied(t, h.check(appRouteRequest(c.method, c.path, c.key, c.secret, nil)))
		if st != c.status || b.Code != c.code {
			t.Errorf("%s: %d %+v, want %d %s", c.name, st, b, c.status, c.code)
		}
	}
	// A client cannot name the API itself, on the catch-all or on an
	// API's route.
	forged := appRouteRequest("GET", "/items/7", key1, secret1, map[string]string{dataplane.ExtAuthzAppRouteHeader: "api-sig"})
	if st, b, _ := denied(t, h.check(forged)); st != 404 || b.Code != "APIG.0101" {
		t.Errorf("forged header on the catch-all: %d %+v", st, b)
	}
	r := signed("api-sig", "GET", "/items/7", map[string]string{dataplane.ExtAuthzAppRouteHeader: "api-sig"}, "", key1, secret1, testNow)
	if st, b, _ := denied(t, h.check(r.checkRequest())); st != 404 || b.Code != "APIG.0101" {
		t.Errorf("forged header on an API route: %d %+v", st, b)
	}
}

// With app_route off (a catch-all left from an older configuration) no
// API is chosen.
func TestAppRouteOff(t *testing.T) {
	h := newHarness(t, appRouteFixture(false).instance(t))
	if st, b, _ := denied(t, h.check(appRouteRequest("GET", "/items/7", key1, secret1, nil))); st != 404 || b.Code != "APIG.0101" {
		t.Errorf("app_route off: %d %+v", st, b)
	}
}
