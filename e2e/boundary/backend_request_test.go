package boundary_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"

	"github.com/apigw/apigw/extauth/sign"
	"github.com/apigw/apigw/internal/envoysim"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

// TestBackendRequest is the contract test of backend parameters and paths.
// The translator plans part of a backend request for Envoy to apply by
// itself (path rewrites, request headers from constants, route values and
// Envoy's own variables) and leaves the rest to ext_authz (header and
// query mutations, the backend_path metadata the route's path_rewrite
// reads). Neither side is checked here against the other's code: the
// test serves the translation of testdata/apis.yaml over ADS from apigw's
// xDS server to an emulated Envoy (internal/envoysim) of the current release
// (scoped and single routing) and of 1.37 (the single-RDS variant), with
// the real ext_authz and rate-limit services on loopback, everything over
// mTLS as apigw runs it, sends client requests, and compares what the
// backend receives with the backend request written down for each case
// from the documented APIG semantics (docs/extauth.md, "Backend parameters
// and the backend path"; docs/xds.md, "Contract with ext_authz").
//
// It guarantees, for REQUEST mappings from every frontend location (PATH,
// QUERY, HEADER) to every backend location (PATH, QUERY, HEADER) with
// renamed parameters, pass_through 2, defaults of absent optional
// parameters, CONSTANT parameters in every location (with APIG's
// percent-encoding), every SYSTEM parameter (internal, frontend and backend
// authorizer context) in every location, prefix and greedy paths, a second
// environment and a policy backend, that the backend gets exactly that
// path, query (every parameter, as encoded on the wire) and headers
// (besides those the HTTP stack adds), whichever side applied each part;
// and that the client IP (sourceIp) is the same on both sides for every
// way an instance defines it. It does not guarantee that Envoy behaves as
// envoysim does (TestRealEnvoy in e2e compares them).
func TestBackendRequest(t *testing.T) {
	variants := []struct {
		name     string
		cfg      *apigwv1.InstanceConfig
		clientIP string
	}{
		{"tcp_peer", nil, "127.0.0.1"},
		{"real_ip_header", &apigwv1.InstanceConfig{RealIpHeaderGetter: &apigwv1.RealIpHeaderGetter{Enable: true, HeaderGetter: "header:X-Real-Ip"}}, "203.0.113.9"},
		{"xff_from_left", &apigwv1.InstanceConfig{RealIpFromXff: &apigwv1.RealIpFromXff{Enable: true, XffIndex: 0}}, "198.51.100.4"},
	}
	// apigw's default routing serves Envoys from 1.38 on scoped routes and
	// older ones a single RouteConfiguration; --http-routing=single serves
	// every Envoy the latter.
	servings := []struct{ routing, envoy string }{
		{translate.RoutingAuto, xdstest.EnvoyVersion},
		{translate.RoutingAuto, "1.37.2"},
		{translate.RoutingSingle, xdstest.EnvoyVersion},
	}
	for _, sv := range servings {
		for _, v := range variants {
			t.Run(sv.routing+"/envoy-"+sv.envoy+"/"+v.name, func(t *testing.T) {
				b := newBackend(t)
				authz := newAuthorizer(t)
				backendAddr := strings.TrimPrefix(b.srv.URL, "http://")
				gw := startGateway(t, loadInstance(t, v.cfg, backendAddr, authz.URL), sv.routing, sv.envoy)
				native, checked := 0, 0
				for _, c := range backendCases {
					t.Run(c.name, func(t *testing.T) {
						got := c.run(t, gw, b, backendAddr)
						if got == nil {
							return
						}
						c.check(t, got, v.clientIP)
					})
					if ext, ok := gw.extAuthzRuns(c.route); ok && ext {
						checked++
					} else if ok {
						native++
					}
				}
				// The cases must exercise both sides of the boundary.
				if native == 0 || checked == 0 {
					t.Errorf("%d cases served by Envoy alone, %d with ext_authz; want both", native, checked)
				}
			})
		}
	}
}

// clientHeaders are sent with every request; the undeclared ones reach the
// backend unchanged.
var clientHeaders = map[string]string{"X-Client": "c1", "X-Real-Ip": "203.0.113.9", "X-Forwarded-For": "198.51.100.4"}

// ignoredHeaders are added by the HTTP stack (Envoy's connection manager,
// Go's client) or carry the APP signature; the contract is about the
// others.
var ignoredHeaders = []string{"x-forwarded-for", "x-forwarded-proto", "x-envoy-external-address", "x-request-id", "user-agent", "accept-encoding", "content-length", "authorization", "x-sdk-date"}

// backendCase is a client request and the backend request it must become.
// In wanted values {ip} is the client IP of the instance's settings and
// {rid} the request's x-request-id.
type backendCase struct {
	name   string
	path   string
	header map[string]string
	app    bool // signed with the app's key and secret

	// wantPath is the backend path as sent (before any query).
	wantPath string
	// wantQuery lists the backend query's parameters as sent on the wire,
	// in any order.
	wantQuery []string
	// wantHeader lists the backend's headers besides ignoredHeaders and
	// the undeclared clientHeaders (x-client, x-real-ip), which are added.
	wantHeader map[string]string
	// route is the name of the route that must serve the request.
	route string
}

var backendCases = []backendCase{
	{
		name: "path_to_every_location", path: "/p/42/a%20b?keep=1", route: "api.path_params.RELEASE",
		wantPath: "/b/p/42/a%20b", wantQuery: []string{"keep=1", "qid=42"},
		wantHeader: map[string]string{"x-id": "42"},
	},
	{
		name: "query_to_every_location", path: "/q?q=v%201&r=rv&u=1", route: "api.query_params.RELEASE",
		wantPath: "/b/q/v%201", wantQuery: []string{"q=v%201", "u=1", "q2=v%201"},
		wantHeader: map[string]string{"x-q": "v 1", "x-r": "rv"},
	},
	{
		name: "header_to_every_location", path: "/h", header: map[string]string{"X-A": "x/y", "X-B": "bee"}, route: "api.header_params.RELEASE",
		wantPath: "/b/h/x%2Fy", wantQuery: []string{"ha=x/y"},
		wantHeader: map[string]string{"x-a": "x/y", "x-a2": "x/y", "x-b2": "bee"},
	},
	{
		name: "defaults_of_absent_parameters", path: "/d", route: "api.defaults.RELEASE",
		wantPath: "/b/d", wantQuery: []string{"opt=dflt", "qh=hd"},
		wantHeader: map[string]string{"x-opt": "dflt", "x-hopt": "hd"},
	},
	{
		name: "defaults_not_used_when_sent", path: "/d?opt=given", header: map[string]string{"X-Hopt": "mine"}, route: "api.defaults.RELEASE",
		wantPath: "/b/d", wantQuery: []string{"opt=given", "qh=mine"},
		wantHeader: map[string]string{"x-opt": "given", "x-hopt": "mine"},
	},
	{
		name: "constants", path: "/c", route: "api.constants.RELEASE",
		wantPath: "/b/c/a%20b%2Fc%5B1%5D", wantQuery: []string{"cq=x%3Dy%26z%20w"},
		wantHeader: map[string]string{"x-const": "50% off"},
	},
	{
		name: "system_parameters_envoy_knows", path: "/sn", route: "api.system_native.RELEASE",
		wantPath: "/b/sn",
		wantHeader: map[string]string{"x-sip": "{ip}", "x-stage-name": "RELEASE", "x-api-id": "system_native", "x-api-name": "system_native",
			"x-req-id": "{rid}", "x-srv-addr": "127.0.0.1", "x-srv-name": serverName},
	},
	{
		name: "system_parameters_everywhere", path: "/sa", route: "api.system_all.RELEASE",
		wantPath: "/b/sa/RELEASE/system_all/2026-01-02T03:04:05Z/{ip}/" + serverName,
		wantQuery: []string{"sip={ip}", "stage=RELEASE", "api=system_all", "apiname=system_all", "rid={rid}", "addr=127.0.0.1",
			"srv=" + serverName, "time=2026-01-02T03:04:05Z"},
		wantHeader: map[string]string{"x-sip": "{ip}", "x-stage-name": "RELEASE", "x-api-id": "system_all", "x-api-name": "system_all",
			"x-req-id": "{rid}", "x-srv-addr": "127.0.0.1", "x-srv-name": serverName, "x-time": "2026-01-02T03:04:05Z"},
	},
	{
		name: "app_parameters", path: "/app", app: true, route: "api.app_auth.RELEASE",
		wantPath: "/b/app/app1", wantQuery: []string{"aid=app1", "aname=web_app"},
		wantHeader: map[string]string{"x-app-id": "app1", "x-app-name": "web_app"},
	},
	{
		name: "authorizer_context", path: "/az", route: "api.authorizers.RELEASE",
		wantPath: "/b/az/ops%20team%2F1", wantQuery: []string{"role=ops%20team/1", "tier=gold"},
		wantHeader: map[string]string{"x-user": "alice", "x-tier": "gold"},
	},
	{
		name: "prefix_remainder", path: "/files/a/b?x=1", route: "api.prefix.RELEASE",
		wantPath: "/store/a/b", wantQuery: []string{"x=1"},
	},
	{
		name: "prefix_remainder_with_computed_path", path: "/px/rest/of?t=tv", route: "api.prefix_ext.RELEASE",
		wantPath: "/b/px/tv/rest/of", wantQuery: []string{"t=tv"},
	},
	{
		name: "greedy_path_parameter", path: "/g/a/b/c", route: "api.greedy.RELEASE",
		wantPath: "/b/g/a/b/c",
	},
	{
		name: "stage_release", path: "/st", route: "api.stages.RELEASE",
		wantPath: "/b/st/RELEASE", wantQuery: []string{"stage=RELEASE"},
		wantHeader: map[string]string{"x-stage-name": "RELEASE"},
	},
	{
		name: "stage_test", path: "/st", header: map[string]string{"X-Stage": "TEST"}, route: "api.stages.TEST",
		wantPath: "/b/st/TEST", wantQuery: []string{"stage=TEST"},
		wantHeader: map[string]string{"x-stage-name": "TEST", "x-stage": "TEST"},
	},
	{
		name: "default_backend_of_a_policy_api", path: "/pol?n=5", header: map[string]string{"X-Tenant": "other"}, route: "api.policy.RELEASE",
		wantPath: "/b/pol/default", wantQuery: []string{"n=5"},
		wantHeader: map[string]string{"x-which": "default", "x-tenant": "other"},
	},
	{
		name: "policy_backend_parameters", path: "/pol?n=5", header: map[string]string{"X-Tenant": "vip"}, route: "api.policy.RELEASE.policy.vip_policy",
		wantPath: "/b/pol/vip/5", wantQuery: []string{"n=5", "tenant=vip"},
		wantHeader: map[string]string{"x-which": "vip", "x-tenant": "vip"},
	},
}

// run sends the case's request and returns what the backend received.
func (c backendCase) run(t *testing.T, gw *gateway, b *backend, backendAddr string) *received {
	t.Helper()
	h := http.Header{}
	for k, v := range clientHeaders {
		h.Set(k, v)
	}
	for k, v := range c.header {
		h.Set(k, v)
	}
	if c.app {
		r, err := http.NewRequest(http.MethodGet, "http://api.test"+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header = h
		// Envoy appends to X-Forwarded-For: a client does not sign it.
		s := sign.Signer{Key: "boundary-key", Secret: "boundary-secret-0001", Exclude: []string{"X-Forwarded-For"}}
		if err := s.Sign(r, testNow); err != nil {
			t.Fatal(err)
		}
	}
	resp, got := gw.serve(t, b, &envoysim.Request{Method: http.MethodGet, Path: c.path, Host: "api.test", Header: h})
	if resp.Status != http.StatusOK || got == nil {
		t.Errorf("status %d, backend reached: %v: %s", resp.Status, got != nil, resp)
		return nil
	}
	if resp.Route != c.route {
		t.Errorf("served by route %q, want %q", resp.Route, c.route)
	}
	if got.host != backendAddr {
		t.Errorf("backend Host %q, want %q", got.host, backendAddr)
	}
	return got
}

// check compares the backend request with the case's.
func (c backendCase) check(t *testing.T, got *received, clientIP string) {
	t.Helper()
	rid := got.header.Get("x-request-id")
	fill := strings.NewReplacer("{ip}", clientIP, "{rid}", rid).Replace
	path, query, _ := strings.Cut(got.uri, "?")
	if want := fill(c.wantPath); path != want {
		t.Errorf("backend path %q, want %q", path, want)
	}
	var gotQuery []string
	if query != "" {
		gotQuery = strings.Split(query, "&")
	}
	var wantQuery []string
	for _, q := range c.wantQuery {
		wantQuery = append(wantQuery, fill(q))
	}
	slices.Sort(gotQuery)
	slices.Sort(wantQuery)
	if !slices.Equal(gotQuery, wantQuery) {
		t.Errorf("backend query %q, want the parameters %q", query, wantQuery)
	}
	want := map[string]string{"x-client": clientHeaders["X-Client"], "x-real-ip": clientHeaders["X-Real-Ip"]}
	for k, v := range c.wantHeader {
		want[k] = fill(v)
	}
	gotHeader := map[string]string{}
	for k, vs := range got.header {
		k = strings.ToLower(k)
		if !slices.Contains(ignoredHeaders, k) {
			gotHeader[k] = strings.Join(vs, "\x00")
		}
	}
	for k, v := range want {
		if g, ok := gotHeader[k]; !ok || g != v {
			t.Errorf("backend header %s: %q (present: %v), want %q", k, g, ok, v)
		}
	}
	for k, v := range gotHeader {
		if _, ok := want[k]; !ok {
			t.Errorf("backend header %s: %q, not expected", k, v)
		}
	}
}

// extAuthzRuns reports whether ext_authz checks a route (false: Envoy
// serves it alone), as the Envoy has it; ok is false when there is no such
// route.
func (g *gateway) extAuthzRuns(name string) (ext, ok bool) {
	for _, rc := range g.ads.Config().Routes {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Name != name {
					continue
				}
				var per extauthzv3.ExtAuthzPerRoute
				if err := r.TypedPerFilterConfig["envoy.filters.http.ext_authz"].UnmarshalTo(&per); err != nil {
					return false, false
				}
				return !per.GetDisabled(), true
			}
		}
	}
	return false, false
}
