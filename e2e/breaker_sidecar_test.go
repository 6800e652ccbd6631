package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/xds/translate"
)

// A breaker plug-in in the sidecar layout: the central apigw (admin, xDS,
// access-log service) tells Envoy to stream its access log a second time
// to the breakers component of the sidecar (extauth, ratelimit,
// breakers); the emulated Envoy sends each entry to both, the sidecar's
// breaker opens from the backend's 502s, and its ext_authz answers the
// next calls with the downgrade — the breaker is decided next to the
// Envoy, while the central access-log service still gets every entry.
func TestBreakerSidecarLayout(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	secret := hex.EncodeToString(key)
	var hits atomic.Int32
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	t.Cleanup(failing.Close)

	side := newAPIGW(t)
	side.Breakers = testutil.FreeAddr(t)
	central := startAPIGW(t, "--components", "admin,xds,accesslog", "--secret-key", secret,
		"--envoy-extauth-address", side.ExtAuth, "--envoy-ratelimit-address", side.RateLimit,
		"--envoy-breaker-accesslog-address", side.Breakers)
	startSidecar(t, side, central, "--secret-key", secret, "--components", "extauth,ratelimit,breakers")

	w := &fsWorld{g: central, be: newBackends(t)}
	w.apply(t, fsGroup+`---
kind: plugin
plugin_name: fragile_breaker
plugin_type: breaker
plugin_content: '{"breaker_condition":{"breaker_type":"condition","unhealthy_condition":"[\"$context.statusCode\",\"in\",\"502\"]","unhealthy_threshold":2,"time_window":60,"open_breaker_time":60},"downgrade_default":{"type":"mock","mock_info":{"status_code":200,"result_content":"degraded"}}}'
---
kind: api
name: fragile_api
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /fragile
auth_type: NONE
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "`+strings.TrimPrefix(failing.URL, "http://")+`", req_uri: /x, timeout: 5000}
---
kind: plugin_binding
api_id: fragile_api
env_id: RELEASE
plugin_id: fragile_breaker
`)
	w.publish(t)
	cfg := w.ads.Config()
	cl := cfg.Clusters[translate.ClusterBreakerAccessLog]
	if cl == nil {
		t.Fatalf("no cluster %s: Envoy has no second access logger", translate.ClusterBreakerAccessLog)
	}
	if cl.GetTransportSocket() != nil {
		t.Errorf("cluster %s: TLS to the sidecar on the pod's loopback", translate.ClusterBreakerAccessLog)
	}

	// The sidecar follows etcd on its own: the calls reach the backend
	// once it knows the API; its breaker opens from their entries.
	eventually(t, 20*time.Second, func() error {
		r := w.call(t, call{path: "/fragile"})
		w.envoy.FlushAccessLogs()
		if r.status != http.StatusOK || string(r.body) != "degraded" {
			return fmt.Errorf("not downgraded yet: %s", r)
		}
		return nil
	})
	before := hits.Load()
	if r := w.call(t, call{path: "/fragile"}); string(r.body) != "degraded" || hits.Load() != before {
		t.Fatalf("an open breaker let a call reach the backend (%s)", r)
	}
	if v := side.Metrics(t)[`apigw_breaker_transitions_total{state="open"}`]; v != 1 {
		t.Errorf("the sidecar's breaker opened %v times, want 1", v)
	}
	// Both streams carried the entries.
	w.envoy.FlushAccessLogs()
	eventually(t, 10*time.Second, func() error {
		c := central.Metrics(t)[`apigw_accesslog_entries_total{result="recorded"}`]
		s := side.Metrics(t)[`apigw_accesslog_entries_total{result="recorded",sink="breakers"}`]
		if c < 3 || s < 3 {
			return fmt.Errorf("entries recorded: central %v, sidecar %v; want every call in both", c, s)
		}
		return nil
	})
}
