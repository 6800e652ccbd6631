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

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/apigw/apigw/e2e/envoysim"
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
// connects an emulated Envoy that serves route.
func startFS(t *testing.T, manifest string, routes ...string) *fsWorld {
	t.Helper()
	w := &fsWorld{g: startAPIGW(t), be: newBackends(t)}
	w.apply(t, manifest)
	w.g.apigctl(t, "publish", "--all", "--group", "failsafe")
	w.connect(t, routes...)
	return w
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
	ads, err := envoysim.Connect(ctx, w.g.xds, &corev3.Node{Id: "fs-envoy", Cluster: "default"}, log)
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
// with each prefix.
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

func (w *fsWorld) apiID(t *testing.T, name string) string {
	t.Helper()
	out := w.g.apigctl(t, "get", "api", name, "-o", "yaml")
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "id: "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no id for api %s:\n%s", name, out)
	return ""
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
`, "api.")
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
