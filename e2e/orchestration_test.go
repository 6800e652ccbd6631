package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// A policy backend on an orchestrated parameter: tenant is mapped by the
// rules (list, then default) to the header X-Shard, which reaches the
// backend and selects the policy backend of shard 2; a call without
// tenant gets ORCHESTRATION_PARAMETER_NOT_FOUND (APIG.0106) and reaches
// no backend. The rules are applied by name and bound by name.
func TestPolicyBackendOnMappedParameter(t *testing.T) {
	w := startFS(t, fsGroup+`---
kind: orchestration
orchestration_name: tenant_to_shard
orchestration_strategy: list
orchestration_mapped_param: {mapped_param_name: X-Shard, mapped_param_type: number, mapped_param_location: header}
orchestration_map:
  - {map_param_list: [acme, globex], mapped_param_value: "1"}
  - {map_param_list: [initech], mapped_param_value: "2"}
---
kind: orchestration
orchestration_name: other_tenants
orchestration_strategy: default
orchestration_mapped_param: {mapped_param_name: X-Shard, mapped_param_type: number, mapped_param_location: header}
orchestration_map:
  - {mapped_param_value: "1"}
---
kind: api
name: sharded
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /sharded
auth_type: NONE
req_params:
  - {name: tenant, location: QUERY, orchestrations: [tenant_to_shard, other_tenants]}
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: /shard1, timeout: 5000}
policy_https:
  - name: shard_two
    effect_mode: ANY
    conditions:
      - {condition_origin: param, req_param_name: X-Shard, condition_type: exact, condition_value: "2"}
    req_protocol: HTTP
    req_method: GET
    url_domain: "{canary}"
    req_uri: /shard2
`)
	for _, c := range []struct {
		name, query string
		backend     *backend
		path, shard string
	}{
		{"listed tenant", "?tenant=initech", w.be.canary, "/shard2", "2"},
		{"other listed tenant", "?tenant=acme", w.be.release, "/shard1", "1"},
		{"default rule", "?tenant=hooli", w.be.release, "/shard1", "1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := w.call(t, call{path: "/sharded" + c.query, header: http.Header{"X-Shard": {"7"}}})
			wantStatus(t, r, http.StatusOK)
			b, got, ok := w.be.find(r.requestID)
			if !ok {
				t.Fatalf("no backend received the request: %s", r)
			}
			if b != c.backend || got.Path != c.path || got.Header.Get("X-Shard") != c.shard {
				t.Errorf("backend %s got %s with X-Shard %q, want %s %s with %q\n%s", b.name, got.Path, got.Header.Get("X-Shard"), c.backend.name, c.path, c.shard, r.trace)
			}
		})
	}
	r := w.call(t, call{path: "/sharded"})
	apigError(t, r, http.StatusBadRequest, "APIG.0106")
	w.noUpstreamFS(t, r)
	if !strings.Contains(string(r.body), "missing") {
		t.Errorf("body %s", r.body)
	}
}

func (w *fsWorld) noUpstreamFS(t *testing.T, r *result) {
	t.Helper()
	if b, _, ok := w.be.find(r.requestID); ok {
		t.Errorf("backend %s received request %s", b.name, r.requestID)
	}
}
