package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A breaker plug-in through the emulated Envoy and a real apigw: the
// backend answers 502, the calls' access-log entries reach apigw when
// Envoy flushes, the breaker opens, and ext_authz answers the next calls
// with the mock downgrade without calling the backend — with no new
// configuration pushed to Envoy.
func TestBreakerThroughEnvoy(t *testing.T) {
	var hits atomic.Int32
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	t.Cleanup(failing.Close)
	manifest := fsGroup + `---
kind: plugin
plugin_name: fragile_breaker
plugin_type: breaker
plugin_content: '{"breaker_condition":{"breaker_type":"condition","unhealthy_condition":"[\"$context.statusCode\",\"in\",\"500,502,503\"]","unhealthy_threshold":2,"time_window":60,"open_breaker_time":60},"downgrade_default":{"type":"mock","mock_info":{"status_code":200,"result_content":"degraded","headers":[{"key":"X-Degraded","value":"yes"}]}}}'
---
kind: api
name: fragile_api
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /fragile
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "` + strings.TrimPrefix(failing.URL, "http://") + `", req_uri: /x, timeout: 5000}
---
kind: plugin_binding
api_id: fragile_api
env_id: RELEASE
plugin_id: fragile_breaker
---
kind: plugin
plugin_name: fallback_breaker
plugin_type: breaker
plugin_content: '{"breaker_condition":{"breaker_type":"condition","unhealthy_condition":"[\"$context.statusCode\",\">=\",500]","unhealthy_threshold":1,"time_window":60,"open_breaker_time":60},"downgrade_default":{"type":"http","http_info":{"isVpc":false,"address":"{canary}","scheme":"HTTP","method":"GET","path":"/fallback","timeout":5000}}}'
---
kind: api
name: fallback_api
group_id: failsafe
req_protocol: HTTP
req_method: POST
req_uri: /withfallback
backend_api: {req_protocol: HTTP, req_method: POST, url_domain: "` + strings.TrimPrefix(failing.URL, "http://") + `", req_uri: /x, timeout: 5000}
---
kind: plugin_binding
api_id: fallback_api
env_id: RELEASE
plugin_id: fallback_breaker
`
	w := startFS(t, manifest)
	for i := 0; i < 2; i++ {
		wantStatus(t, w.call(t, call{path: "/fragile"}), http.StatusBadGateway)
	}
	versions := fmt.Sprint(w.ads.Config().Versions)
	w.envoy.FlushAccessLogs()
	eventually(t, 10*time.Second, func() error {
		r := w.call(t, call{path: "/fragile"})
		if r.status != http.StatusOK || string(r.body) != "degraded" || r.header.Get("X-Degraded") != "yes" {
			w.envoy.FlushAccessLogs() // a call that still reached the backend
			return fmt.Errorf("not downgraded yet: %s", r)
		}
		return nil
	})
	before := hits.Load()
	r := w.call(t, call{path: "/fragile"})
	if string(r.body) != "degraded" || hits.Load() != before {
		t.Fatalf("an open breaker let a call reach the backend (%s)", r)
	}
	if v := fmt.Sprint(w.ads.Config().Versions); v != versions {
		t.Errorf("the configuration changed (%s → %s): a breaker must act without a push", versions, v)
	}

	// An http downgrade: once open, requests go to the canary backend,
	// with its path and method.
	wantStatus(t, w.call(t, call{method: http.MethodPost, path: "/withfallback"}), http.StatusBadGateway)
	w.envoy.FlushAccessLogs()
	eventually(t, 10*time.Second, func() error {
		r := w.call(t, call{method: http.MethodPost, path: "/withfallback"})
		got, ok := w.be.canary.request(r.requestID)
		if r.status != http.StatusOK || !ok {
			w.envoy.FlushAccessLogs()
			return fmt.Errorf("not downgraded yet: %s", r)
		}
		if got.Path != "/fallback" || got.Method != http.MethodGet {
			t.Fatalf("the downgrade backend got %s %s, want GET /fallback", got.Method, got.Path)
		}
		return nil
	})
}

// Half-open recovery through Envoy: after open_breaker_time a probe
// reaches the backend, now healthy; its result, flushed to apigw, closes
// the breaker and requests reach the backend again.
func TestBreakerRecoversThroughEnvoy(t *testing.T) {
	var healthy atomic.Bool
	var hits atomic.Int32
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		if !healthy.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("live"))
	}))
	t.Cleanup(be.Close)
	w := startFS(t, fsGroup+`---
kind: plugin
plugin_name: recovering_breaker
plugin_type: breaker
plugin_content: '{"breaker_condition":{"breaker_type":"condition","breaker_mode":"percentage","unhealthy_condition":"[\"$context.statusCode\",\"==\",503]","min_call_threshold":1,"unhealthy_percentage":100,"time_window":1,"open_breaker_time":1}}'
---
kind: api
name: recovering_api
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /recovering
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "`+strings.TrimPrefix(be.URL, "http://")+`", req_uri: /x, timeout: 5000}
---
kind: plugin_binding
api_id: recovering_api
env_id: RELEASE
plugin_id: recovering_breaker
`)
	// Percentage mode, a window of 1 s: the failing calls of a window
	// open the breaker when it ends; no downgrade: 503 APIG.0202.
	eventually(t, 15*time.Second, func() error {
		r := w.call(t, call{path: "/recovering"})
		w.envoy.FlushAccessLogs()
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "APIG.0202") {
			return fmt.Errorf("not open yet: %s", r)
		}
		return nil
	})
	healthy.Store(true)
	eventually(t, 15*time.Second, func() error {
		r := w.call(t, call{path: "/recovering"})
		w.envoy.FlushAccessLogs()
		if r.status != http.StatusOK || string(r.body) != "live" {
			return fmt.Errorf("not closed yet: %s", r)
		}
		return nil
	})
	// That was the half-open breaker's probe; once its result is in, the
	// breaker is closed: every request reaches the backend.
	eventually(t, 15*time.Second, func() error {
		w.envoy.FlushAccessLogs()
		before := hits.Load()
		for i := 0; i < 3; i++ {
			if r := w.call(t, call{path: "/recovering"}); r.status != http.StatusOK {
				return fmt.Errorf("call %d after recovery: %s", i, r)
			}
		}
		if n := hits.Load() - before; n != 3 {
			return fmt.Errorf("%d of 3 calls reached the backend after recovery", n)
		}
		return nil
	})
}
