package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	"github.com/apigw/apigw/xds/xdstest"
)

// fsHost is the domain of the group the fail-safe tests define.
const fsHost = "fs.example.com"

// fsWorld is an apigw serving a small definition through the emulator,
// for tests that need definitions of their own.
type fsWorld struct {
	g     *apigw
	be    *backends
	envoy *envoysim.Envoy
	ads   *envoysim.ADS
}

// startFS starts apigw, applies manifest (with {release} and {canary}
// replaced by the backends' addresses), publishes the group's APIs and
// connects an emulated Envoy once it serves all of them.
func startFS(t *testing.T, manifest string) *fsWorld {
	t.Helper()
	w := &fsWorld{g: startAPIGW(t), be: newBackends(t)}
	w.apply(t, manifest)
	w.publish(t)
	return w
}

// publish publishes every API of the group in RELEASE and connects an
// emulated Envoy once it has all their routes.
func (w *fsWorld) publish(t *testing.T) {
	t.Helper()
	w.g.apigctl(t, "publish", "--all", "--group", "failsafe")
	w.connect(t, w.routes(t)...)
}

// routes are the RELEASE routes of every API.
func (w *fsWorld) routes(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, id := range w.ids(t, model.KindAPI) {
		out = append(out, routeName(id, "RELEASE"))
	}
	return out
}

func (w *fsWorld) apply(t *testing.T, manifest string) {
	t.Helper()
	manifest = strings.NewReplacer("{release}", w.be.release.addr(), "{canary}", w.be.canary.addr()).Replace(manifest)
	f := filepath.Join(t.TempDir(), "defs.yaml")
	if err := os.WriteFile(f, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	w.g.apigctl(t, "apply", "-f", f)
}

// connect connects the emulated Envoy and waits for the named routes.
func (w *fsWorld) connect(t *testing.T, routes ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ads, err := envoysim.Connect(ctx, w.g.XDS, xdstest.Node("fs-envoy", "default", xdstest.EnvoyVersion), log, envoysim.WithTLS(envoyTLS(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ads.Close() })
	w.ads = ads
	w.waitRoutes(t, routes...)
	w.envoy = envoysim.New(ads, envoysim.Options{HTTPPort: w.g.envoyHTTP, HTTPSPort: w.g.envoyHTTPS, MinServiceTimeout: 10 * time.Second, Log: log})
	t.Cleanup(w.envoy.Close)
}

// waitRoutes waits until the emulated Envoy has routes whose names start
// with each prefix (a route name, or the name of its first variant).
func (w *fsWorld) waitRoutes(t *testing.T, prefixes ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := w.ads.WaitFor(ctx, func(c *envoysim.Config) error {
		for _, p := range prefixes {
			found := false
			for _, rc := range c.Routes {
				for _, vh := range rc.GetVirtualHosts() {
					for _, r := range vh.GetRoutes() {
						found = found || strings.HasPrefix(r.GetName(), p)
					}
				}
			}
			if !found {
				return fmt.Errorf("no route %s*", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (w *fsWorld) call(t *testing.T, c call) *result {
	t.Helper()
	if c.host == "" {
		c.host = fsHost
	}
	return do(t, simGateway{w.envoy}, c)
}

const fsGroup = `
kind: group
id: failsafe
name: failsafe
url_domains:
  - domain: ` + fsHost + `
`

// A policy backend chosen by a query parameter that is not passed
// through: ext_authz selects the policy and strips the parameter, Envoy
// matches the route again, and the policy's route must still match (by
// the selection header ext_authz sets).
func TestPolicyBackendSurvivesParameterStripping(t *testing.T) {
	w := startFS(t, fsGroup+`---
kind: api
name: tiered
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /tiered
auth_type: NONE
req_params:
  - {name: tier, location: QUERY, pass_through: 2}
  - {name: X-Plan, location: HEADER, pass_through: 2}
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: /default, timeout: 5000}
policy_https:
  - name: gold
    effect_mode: ANY
    conditions:
      - {condition_origin: param, req_param_name: tier, condition_type: exact, condition_value: gold}
    req_protocol: HTTP
    req_method: GET
    url_domain: "{canary}"
    req_uri: /gold
  - name: silver
    effect_mode: ALL
    conditions:
      - {condition_origin: param, req_param_name: X-Plan, condition_type: enum, condition_value: "silver,bronze"}
    req_protocol: HTTP
    req_method: GET
    url_domain: "{canary}"
    req_uri: /silver
`)
	for _, c := range []struct {
		name    string
		call    call
		backend *backend
		path    string
	}{
		{"query condition", call{path: "/tiered?tier=gold&x=1"}, w.be.canary, "/gold"},
		{"header condition", call{path: "/tiered", header: http.Header{"X-Plan": {"bronze"}}}, w.be.canary, "/silver"},
		{"no condition", call{path: "/tiered?tier=tin"}, w.be.release, "/default"},
		{"forged selection header", call{path: "/tiered", header: http.Header{"X-Apigw-Policy": {"gold"}}}, w.be.release, "/default"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := w.call(t, c.call)
			wantStatus(t, r, http.StatusOK)
			b, got, ok := w.be.find(r.requestID)
			if !ok {
				t.Fatalf("no backend received the request: %s", r)
			}
			if b != c.backend || got.Path != c.path {
				t.Errorf("backend %s got %s, want %s %s\n%s", b.name, got.Path, c.backend.name, c.path, r.trace)
			}
			if strings.Contains(got.RawQuery, "tier=") || got.Header.Get("X-Plan") != "" || got.Header.Get("X-Apigw-Policy") != "" {
				t.Errorf("stripped parameters or the selection header reached the backend: %q %v", got.RawQuery, got.Header)
			}
		})
	}
}

// ids returns the ids of the objects of a kind by name.
func (w *fsWorld) ids(t *testing.T, kind string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := w.g.adminClient().List(ctx, &adminv1.ListRequest{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range resp.GetResources() {
		m, _ := model.Unwrap(r)
		out[model.NameOf(m)] = model.IDOf(m)
	}
	return out
}

const fsPolicies = `---
kind: acl
acl_name: office_only
acl_type: PERMIT
entity_type: IP
acl_value: "10.9.9.9"
---
kind: throttle
name: two_a_minute
api_call_limits: 2
time_interval: 1
time_unit: MINUTE
---
kind: throttle
name: three_a_minute
api_call_limits: 3
time_interval: 1
time_unit: MINUTE
---
kind: authorizer
name: token_check
type: FRONTEND
authorizer_uri: "{authorizer}"
identities: [{name: Authorization, location: HEADER}]
---
kind: app_quota
name: hourly_quota
call_limits: 100
time_interval: 1
time_unit: HOUR
---
kind: app
name: quota_app
app_key: failsafe-app-key
app_secret: failsafe-app-secret-1
app_quota_id: hourly_quota
`

func fsAPI(name, uri, extra string) string {
	return `---
kind: api
name: ` + name + `
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: ` + uri + `
` + extra + `backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: /ok, timeout: 5000}
`
}

// Last good means last good across restarts: a bound ACL or throttle that
// became invalid in etcd, a bound throttle, an authorizer and a credential
// quota deleted or broken around the admin API must never leave an API
// served with fewer restrictions after apigw restarts. The APIs are held
// closed (APIG.0601) by the new routes, and by ext_authz and the RLS for
// an Envoy that kept the old ones, and they are listed in GetStatus.
func TestRestartNeverServesFewerRestrictions(t *testing.T) {
	manifest := fsGroup + fsPolicies +
		fsAPI("acl_api", "/acl", "") + fsAPI("throttled_api", "/throttled", "") + fsAPI("gone_api", "/gone", "") +
		fsAPI("authz_api", "/authz", "auth_type: AUTHORIZER\nauthorizer_id: token_check\n") +
		fsAPI("app_api", "/app", "auth_type: APP\n") + fsAPI("free_api", "/free", "") + `---
kind: acl_binding
api_id: acl_api
env_id: RELEASE
acl_id: office_only
---
kind: throttle_binding
api_id: throttled_api
env_id: RELEASE
strategy_id: two_a_minute
---
kind: throttle_binding
api_id: gone_api
env_id: RELEASE
strategy_id: three_a_minute
---
kind: app_auth
api_id: app_api
env_id: RELEASE
app_id: quota_app
`
	w := &fsWorld{g: startAPIGW(t), be: newBackends(t)}
	w.apply(t, strings.ReplaceAll(manifest, "{authorizer}", w.be.auth.srv.URL+"/authorize"))
	w.publish(t)
	alice := http.Header{"Authorization": {"Bearer demo-token-alice"}}
	signedApp := call{path: "/app", key: "failsafe-app-key", secret: "failsafe-app-secret-1"}

	// Configured restrictions in force.
	wantStatus(t, w.call(t, call{path: "/acl", source: "10.9.9.9"}), http.StatusOK)
	apigError(t, w.call(t, call{path: "/acl"}), http.StatusForbidden, "APIG.0402")
	wantStatus(t, w.call(t, call{path: "/throttled"}), http.StatusOK)
	wantStatus(t, w.call(t, call{path: "/authz", header: alice}), http.StatusOK)
	wantStatus(t, w.call(t, signedApp), http.StatusOK)

	// Around the admin API, straight into etcd.
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{w.g.etcd}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	acls, throttles, azs, quotas := w.ids(t, model.KindACL), w.ids(t, model.KindThrottle), w.ids(t, model.KindAuthorizer), w.ids(t, model.KindAppQuota)
	prefix := store.InstancePrefix(model.DefaultInstance)
	for k, v := range map[string]string{
		prefix + "acls/" + acls["office_only"]:            `{"id":"` + acls["office_only"] + `","acl_name":"office_only","acl_type":"PERMIT","entity_type":"IP","acl_value":"not-an-ip"}`,
		prefix + "throttles/" + throttles["two_a_minute"]: `{"id":`,
		prefix + "app-quotas/" + quotas["hourly_quota"]:   `{"id":"` + quotas["hourly_quota"] + `","name":"hourly_quota","call_limits":0}`,
	} {
		if _, err := cli.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{prefix + "throttles/" + throttles["three_a_minute"], prefix + "authorizers/" + azs["token_check"]} {
		if _, err := cli.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	// While apigw runs, the last good ACL and throttle stay in force.
	time.Sleep(500 * time.Millisecond)
	apigError(t, w.call(t, call{path: "/acl"}), http.StatusForbidden, "APIG.0402")
	wantStatus(t, w.call(t, call{path: "/throttled"}), http.StatusOK)
	apigError(t, w.call(t, call{path: "/throttled"}), http.StatusTooManyRequests, "APIG.0308")

	w.g.restart(t)
	closed := []struct {
		name string
		c    call
	}{
		{"invalid ACL, permitted source", call{path: "/acl", source: "10.9.9.9"}},
		{"invalid ACL, other source", call{path: "/acl"}},
		{"invalid throttle", call{path: "/throttled"}},
		{"deleted bound throttle", call{path: "/gone"}},
		{"deleted authorizer", call{path: "/authz", header: alice}},
		{"invalid credential quota", signedApp},
	}
	check := func(t *testing.T) {
		for _, c := range closed {
			t.Run(c.name, func(t *testing.T) {
				for range 4 {
					r := w.call(t, c.c)
					if b, _, ok := w.be.find(r.requestID); ok {
						t.Fatalf("served by backend %s: %s", b.name, r)
					}
					// An old route may still refuse by Envoy's own RBAC
					// (403); whatever answers, it never lets the call in.
					if r.status == http.StatusForbidden && c.c.path == "/acl" && c.c.source == "" {
						apigError(t, r, http.StatusForbidden, "APIG.0402")
						continue
					}
					apigError(t, r, http.StatusInternalServerError, "APIG.0601")
				}
			})
		}
		wantStatus(t, w.call(t, call{path: "/free"}), http.StatusOK)
	}
	// An Envoy that kept its routes across the restart: ext_authz and the
	// RLS refuse.
	t.Run("old routes", check)
	// An Envoy that gets the new routes: direct responses.
	w.connect(t, w.routes(t)...)
	t.Run("new routes", check)

	st, err := w.g.adminClient().GetStatus(ctx, &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	apis := w.ids(t, model.KindAPI)
	problems := map[string]string{}
	for _, p := range st.GetApiProblems() {
		problems[p.GetApiId()] += p.GetReason()
	}
	for _, name := range []string{"acl_api", "throttled_api", "gone_api", "authz_api"} {
		if !strings.Contains(problems[apis[name]], "APIG.0601") {
			t.Errorf("GetStatus does not list %s as held closed: %v", name, st.GetApiProblems())
		}
	}
	unreadable := 0 // the three broken values; the objects naming them are reported too, in force
	for _, o := range st.GetInvalidObjects() {
		if !o.GetInForce() {
			unreadable++
		}
	}
	if !strings.Contains(problems[""], "credential quota") || unreadable != 3 {
		t.Errorf("app problem or invalid objects missing: %v %v", st.GetApiProblems(), st.GetInvalidObjects())
	}
}
