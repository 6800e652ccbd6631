package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/internal/testutil"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// The API routes of the pet store once published (quick start): every API
// in RELEASE, list_pets and get_pet in TEST.
func publishedRoutes(ps *petstore) []string {
	var out []string
	for name, id := range ps.apis {
		out = append(out, routeName(id, "RELEASE"))
		if name == "list_pets" || name == "get_pet" {
			out = append(out, routeName(id, "TEST"))
		}
	}
	return out
}

// servesPetstore reports whether an Envoy's configuration has every route
// of the pet store over HTTP (scoped: the group's route configuration;
// single: one for all groups) and HTTPS, with its certificate.
func servesPetstore(ps *petstore, scoped bool) func(*envoysim.Config) error {
	httpRC := "apigw.http"
	if scoped {
		httpRC = "apigw.http.petstore"
	}
	return func(c *envoysim.Config) error {
		for _, rc := range []string{"apigw.https.petstore", httpRC} {
			if c.Routes[rc] == nil {
				return fmt.Errorf("route configuration %s missing", rc)
			}
			for _, r := range publishedRoutes(ps) {
				if !hasRoute(c.Routes[rc], r) {
					return fmt.Errorf("route %s missing in %s", r, rc)
				}
			}
		}
		if len(c.Secrets) == 0 {
			return errors.New("no secrets")
		}
		if scoped != (len(c.Scopes) > 0) {
			return fmt.Errorf("%d scopes, scoped routing %v", len(c.Scopes), scoped)
		}
		return nil
	}
}

func hasRoute(rc *routev3.RouteConfiguration, name string) bool {
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			if r.GetName() == name {
				return true
			}
		}
	}
	return false
}

// TestProtocolLevel runs every scenario against the built apigw through
// the protocol-level Envoy emulator (internal/envoysim), with apigw's default
// HTTP routing (scoped route tables per host for the pet store) and with
// one route table for every group (--http-routing=single).
func TestProtocolLevel(t *testing.T) {
	for _, mode := range []string{"auto", "single"} {
		t.Run(mode, func(t *testing.T) { protocolLevel(t, mode) })
	}
}

func protocolLevel(t *testing.T, routing string) {
	g := startAPIGW(t, "--http-routing", routing)
	be := newBackends(t)
	ps := deployPetstore(t, g, be)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ads := connectEnvoy(t, ctx, g, "e2e-envoy", log)
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	cfg, err := ads.WaitFor(wctx, servesPetstore(ps, routing == "auto"))
	wcancel()
	if err != nil {
		t.Fatal(err)
	}
	checkServiceFilters(t, cfg)
	checkServiceTLS(t, cfg, true)

	// ext_authz and RLS timeouts are asserted above; the emulator widens
	// them so that a loaded CI machine does not make Envoy fail open.
	lines := &testutil.Buffer{}
	envoy := envoysim.New(ads, envoysim.Options{HTTPPort: g.envoyHTTP, HTTPSPort: g.envoyHTTPS, MinServiceTimeout: 10 * time.Second, Log: log, AccessLogOut: lines})
	t.Cleanup(envoy.Close)
	tl := newTally(simGateway{envoy})
	runScenarios(t, &world{gw: tl, g: g, be: be, ps: ps})
	checkAPIMetrics(t, g, envoy.FlushAccessLogs, tl)
	checkChannelHealth(t, g)
	signedCallWithApigctl(t, g, httpFront(t, envoy))
	checkAccessLogLines(t, g, ads, simGateway{envoy}, lines, ps)
	checkAudit(t, g)

	if n := ads.NACKs(); len(n) > 0 {
		t.Errorf("the emulated Envoy rejected configuration: %v", n)
	}
	checkStatus(t, g, "e2e-envoy")
	checkXDSRefusesStrangers(t, g)
}

// checkServiceFilters asserts what the emulator cannot reproduce exactly:
// the timeouts and failure modes of ext_authz and the rate-limit filter,
// and that they point at the clusters apigw serves.
func checkServiceFilters(t *testing.T, cfg *envoysim.Config) {
	t.Helper()
	hcms, err := cfg.HCMs()
	if err != nil {
		t.Fatal(err)
	}
	if len(hcms) == 0 {
		t.Fatal("no HTTP connection manager")
	}
	for name, h := range hcms {
		for _, f := range h.GetHttpFilters() {
			switch f.GetName() {
			case "envoy.filters.http.ext_authz":
				var ea extauthzv3.ExtAuthz
				if err := f.GetTypedConfig().UnmarshalTo(&ea); err != nil {
					t.Fatal(err)
				}
				if ea.GetFailureModeAllow() || ea.GetGrpcService().GetEnvoyGrpc().GetClusterName() != "apigw.extauth" ||
					ea.GetGrpcService().GetTimeout().AsDuration() != 2*time.Second || !ea.GetClearRouteCache() {
					t.Errorf("%s: ext_authz %v", name, &ea)
				}
			case "envoy.filters.http.ratelimit":
				var rl ratelimitv3.RateLimit
				if err := f.GetTypedConfig().UnmarshalTo(&rl); err != nil {
					t.Fatal(err)
				}
				if rl.GetFailureModeDeny() || rl.GetDomain() != "apigw" || rl.GetTimeout().AsDuration() != 100*time.Millisecond ||
					rl.GetRateLimitService().GetGrpcService().GetEnvoyGrpc().GetClusterName() != "apigw.ratelimit" {
					t.Errorf("%s: ratelimit %v", name, &rl)
				}
			}
		}
	}
}

// checkServiceTLS asserts whether Envoy reaches ext_authz and the RLS over
// mTLS (the emulator then does, with the certificates the SDS files name).
func checkServiceTLS(t *testing.T, cfg *envoysim.Config, want bool) {
	t.Helper()
	for _, name := range []string{"apigw.extauth", "apigw.ratelimit"} {
		if got := cfg.Clusters[name].GetTransportSocket() != nil; got != want {
			t.Errorf("cluster %s over mTLS: %v, want %v", name, got, want)
		}
	}
}

// checkStatus asserts what `apigctl status` and the admin API report for an
// Envoy: every type acknowledged, nothing rejected, no API left out.
func checkStatus(t *testing.T, g *apigw, node string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := g.adminClient().GetStatus(ctx, &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	for _, n := range st.GetNodes() {
		if n.GetNodeId() != node {
			continue
		}
		if n.GetLastNack() != "" {
			t.Errorf("%s rejected %s: %s", node, n.GetTypeUrl(), n.GetLastNack())
		}
		if n.GetAckedVersion() != "" {
			acked[n.GetTypeUrl()] = true
		}
	}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.EndpointType, resourcev3.SecretType} {
		if !acked[typ] {
			t.Errorf("status: %s acknowledged no %s (nodes: %v)", node, typ, st.GetNodes())
		}
	}
	if len(st.GetApiProblems()) > 0 || len(st.GetInvalidObjects()) > 0 {
		t.Errorf("status problems: %v %v", st.GetApiProblems(), st.GetInvalidObjects())
	}
	out := g.apigctl(t, "status", "--check")
	if !strings.Contains(out, node) {
		t.Errorf("apigctl status does not list %s:\n%s", node, out)
	}
}
