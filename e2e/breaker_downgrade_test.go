package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The breaker's http_vpc, passthrough and func downgrades through the
// emulated Envoy and a real apigw: a failing backend (502) opens each
// API's breaker (fed by the access log), then
//   - http_vpc: requests go to the load balance channel's member (pool-a)
//     with the downgrade's method and path, on the channel's cluster;
//   - passthrough: requests still go to the API's own backend, with the
//     downgrade's header;
//   - func: requests are answered by the function of the registry,
//     through the functions component.
func TestBreakerDowngradesThroughEnvoy(t *testing.T) {
	var mu sync.Mutex
	degraded := map[string]string{} // request id → X-Degraded the failing backend got
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		degraded[r.Header.Get("X-Request-Id")] = r.Header.Get("X-Degraded")
		mu.Unlock()
		http.Error(w, "down", http.StatusBadGateway)
	}))
	t.Cleanup(failing.Close)
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"statusCode":200,"headers":{"X-Function":"fallback"},"isBase64Encoded":false,"body":"from the fallback function"}`)
	}))
	t.Cleanup(fn.Close)
	const urn = "urn:fss:cn-north-4:p1:function:default:fallback"
	const cond = `"breaker_condition":{"breaker_type":"condition","unhealthy_condition":"[\"$context.statusCode\",\">=\",500]","unhealthy_threshold":1,"time_window":60,"open_breaker_time":60}`
	backend := `backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "` + strings.TrimPrefix(failing.URL, "http://") + `", req_uri: /x, timeout: 5000}`
	api := func(name, path, plugin string) string {
		return `---
kind: api
name: ` + name + `
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: ` + path + `
` + backend + `
---
kind: plugin_binding
api_id: ` + name + `
env_id: RELEASE
plugin_id: ` + plugin + `
`
	}
	w := &fsWorld{g: startAPIGW(t), be: newBackends(t)}
	w.apply(t, `kind: instance
name: default
config:
  functions:
    - {urn: "`+urn+`", url: "`+fn.URL+`"}
---`+fsGroup+`---
kind: vpc_channel
id: fbpool
name: fallback_pool
port: `+port(t, w.be.poolA)+`
members:
  - {host: 127.0.0.1, port: `+port(t, w.be.poolA)+`, weight: 1}
---
kind: plugin
plugin_name: vpc_breaker
plugin_type: breaker
plugin_content: '{`+cond+`,"downgrade_default":{"type":"http_vpc","http_vpc_info":{"vpc_channel_id":"fbpool","scheme":"HTTP","method":"GET","path":"/pooled","timeout":5000}}}'
---
kind: plugin
plugin_name: pass_breaker
plugin_type: breaker
plugin_content: '{`+cond+`,"downgrade_default":{"type":"passthrough","passthrough_infos":[{"key":"X-Degraded","value":"passthrough"}]}}'
---
kind: plugin
plugin_name: fn_breaker
plugin_type: breaker
plugin_content: '{`+cond+`,"downgrade_default":{"type":"function","func_info":{"function_urn":"`+urn+`","invocation_type":"sync","timeout":5000}}}'
`+api("vpc_api", "/vpcfb", "vpc_breaker")+api("pass_api", "/passfb", "pass_breaker")+api("fn_api", "/fnfb", "fn_breaker"))
	w.publish(t)

	// Each breaker opens after one failing call.
	for _, p := range []string{"/vpcfb", "/passfb", "/fnfb"} {
		r := w.call(t, call{path: p})
		wantStatus(t, r, http.StatusBadGateway)
		mu.Lock()
		got := degraded[r.requestID]
		mu.Unlock()
		if got != "" {
			t.Fatalf("%s: a closed breaker added the passthrough header (%q)", p, got)
		}
	}
	w.envoy.FlushAccessLogs()

	// http_vpc: the channel's member gets the downgrade's method and path.
	eventually(t, 15*time.Second, func() error {
		r := w.call(t, call{path: "/vpcfb"})
		got, ok := w.be.poolA.request(r.requestID)
		if r.status != http.StatusOK || !ok {
			w.envoy.FlushAccessLogs()
			var eps []string
			for k, v := range w.ads.Config().Endpoints {
				eps = append(eps, fmt.Sprint(k, v))
			}
			return fmt.Errorf("not downgraded to the channel yet: %s %v", r, eps)
		}
		if got.Path != "/pooled" || got.Method != http.MethodGet {
			t.Fatalf("the channel's member got %s %s, want GET /pooled", got.Method, got.Path)
		}
		return nil
	})

	// passthrough: the API's own backend, with the downgrade's header.
	eventually(t, 15*time.Second, func() error {
		r := w.call(t, call{path: "/passfb"})
		mu.Lock()
		got, ok := degraded[r.requestID]
		mu.Unlock()
		if !ok {
			return fmt.Errorf("the passthrough did not reach the API's backend: %s", r)
		}
		if got != "passthrough" {
			w.envoy.FlushAccessLogs()
			return fmt.Errorf("not passed through yet (X-Degraded %q): %s", got, r)
		}
		if r.status != http.StatusBadGateway {
			t.Fatalf("the passed-through request got %s, want the backend's 502", r)
		}
		return nil
	})

	// func: the function answers through the functions component.
	eventually(t, 15*time.Second, func() error {
		r := w.call(t, call{path: "/fnfb"})
		if r.status != http.StatusOK || string(r.body) != "from the fallback function" || r.header.Get("X-Function") != "fallback" {
			w.envoy.FlushAccessLogs()
			return fmt.Errorf("not downgraded to the function yet: %s", r)
		}
		return nil
	})
}
