package e2e

import (
	"net/http"
	"testing"
)

// rateLimitPluginDefs: an API with a throttling policy of one call a
// minute and a rate_limit plug-in, which replaces it: 5 calls a minute,
// 2 of them for gold-tier callers (header) and 1 on the free plan (query).
var rateLimitPluginDefs = fsGroup + fsAPI("rl_api", "/rl", "") + `---
kind: throttle
name: one_a_minute
api_call_limits: 1
time_interval: 1
time_unit: MINUTE
---
kind: throttle_binding
api_id: rl_api
env_id: RELEASE
strategy_id: one_a_minute
---
kind: plugin
plugin_name: rl_rules
plugin_type: rate_limit
plugin_content: '{"default_time_unit":"minute","api_limit":5,"parameters":[{"type":"header","name":"tier","value":"X-Tier"},{"type":"query","name":"plan","value":"plan"}],"rules":[{"rule_name":"gold","match_regex":"[\"tier\",\"==\",\"gold\"]","limit":2},{"rule_name":"free_plan","match_regex":"[\"plan\",\"==\",\"free\"]","limit":1}]}'
---
kind: plugin_binding
api_id: rl_api
env_id: RELEASE
plugin_id: rl_rules
`

// Request Throttling 2.0 through Envoy: ext_authz selects the rule, the
// route's rule descriptor carries it, the rate-limit service applies the
// rule's limit and the plug-in's api limit instead of the policy's.
func TestRateLimitPluginThroughEnvoy(t *testing.T) {
	w := startFS(t, rateLimitPluginDefs)
	gold := http.Header{"X-Tier": {"gold"}}
	for i := range 2 {
		if r := w.call(t, call{path: "/rl", header: gold}); r.status != http.StatusOK {
			t.Fatalf("gold call %d: %s", i+1, r)
		}
	}
	apigError(t, w.call(t, call{path: "/rl", header: gold}), http.StatusTooManyRequests, "APIG.0308")
	wantStatus(t, w.call(t, call{path: "/rl?plan=free"}), http.StatusOK)
	apigError(t, w.call(t, call{path: "/rl?plan=free"}), http.StatusTooManyRequests, "APIG.0308")
	// 3 calls admitted; the api limit of 5 (not the policy's 1) admits 2
	// more that match no rule.
	wantStatus(t, w.call(t, call{path: "/rl"}), http.StatusOK)
	wantStatus(t, w.call(t, call{path: "/rl?plan=paid"}), http.StatusOK)
	apigError(t, w.call(t, call{path: "/rl"}), http.StatusTooManyRequests, "APIG.0308")
}
