package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// memberGroupDefs: channel groups_pool has member groups blue (pool-a,
// weight 3), green (pool-b, weight 1) and grey (canary, weight 0).
// split_api calls blue and green with their own paths and tells the
// backend the group; policy_api's policy backend, chosen by ext_authz
// (a source-IP condition), calls blue and green with other paths.
const memberGroupDefs = fsGroup + `---
kind: vpc_channel
name: groups_pool
port: {poolAPort}
member_groups:
  - {member_group_name: blue, member_group_id: mg-blue, member_group_weight: 3}
  - {member_group_name: green, member_group_id: mg-green, member_group_weight: 1}
  - {member_group_name: grey, member_group_weight: 0}
members:
  - {host: 127.0.0.1, port: {poolAPort}, member_group_name: blue}
  - {host: 127.0.0.1, port: {poolBPort}, member_group_name: green}
  - {host: 127.0.0.1, port: {canaryPort}, weight: 5, member_group_name: grey}
---
kind: api
name: split_api
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /split/{id}
req_params: [{name: id, location: PATH}]
backend_params:
  - {name: X-Group, location: HEADER, origin: SYSTEM, value: $context.member_group_name}
  - {name: X-Group-Id, location: HEADER, origin: SYSTEM, value: $context.member_group_id}
backend_api:
  req_protocol: HTTP
  req_method: GET
  timeout: 5000
  vpc_channel_status: 4
  vpc_channel_info: {vpc_channel_id: groups_pool}
  member_group_url_infos:
    - {member_group_name: blue, req_uri: "/blue/{id}"}
    - {member_group_name: green, req_uri: "/green/{id}"}
    - {member_group_name: grey, req_uri: "/grey/{id}"}
---
kind: api
name: policy_api
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /pol
backend_api: {req_protocol: HTTP, req_method: GET, url_domain: "{release}", req_uri: /default, timeout: 5000}
policy_https:
  - name: local
    conditions:
      - {condition_origin: source, condition_value: "127.0.0.1"}
    req_protocol: HTTP
    req_method: GET
    vpc_channel_status: 4
    vpc_channel_info: {vpc_channel_id: groups_pool}
    member_group_url_infos:
      - {member_group_name: blue, req_uri: /p-blue}
      - {member_group_name: green, req_uri: /p-green}
    backend_params:
      - {name: X-Group, location: HEADER, origin: SYSTEM, value: member_group_name}
---
kind: vpc_channel
name: a_only
port: {poolAPort}
members:
  - {host: 127.0.0.1, weight: 1}
---
kind: vpc_channel
name: b_only
port: {poolBPort}
members:
  - {host: 127.0.0.1, weight: 1}
---
kind: vpc_channel
name: ref_pool
type: reference
member_groups:
  - {member_group_name: stable, member_group_weight: 3, reference_vpc_channel_id: a_only}
  - {member_group_name: next, member_group_weight: 1, reference_vpc_channel_id: b_only}
---
kind: api
name: ref_api
group_id: failsafe
req_protocol: HTTP
req_method: GET
req_uri: /ref
backend_api: {req_protocol: HTTP, req_method: GET, req_uri: /via-ref, timeout: 5000, vpc_channel_info: {vpc_channel_id: ref_pool}}
`

func port(t *testing.T, b *backend) string {
	t.Helper()
	_, p, ok := strings.Cut(b.addr(), ":")
	if !ok {
		t.Fatalf("backend address %s", b.addr())
	}
	return p
}

// Requests to an API whose backend calls member groups reach only the
// members of the called groups, each with its group's path and group
// headers, split by the group weights (3:1); the weight-0 group gets none.
// A policy backend selected by ext_authz after Envoy first matched the
// default backend's route calls the groups too, with the policy's paths:
// Envoy matches again with the stream's random value.
func TestMemberGroupsThroughEnvoy(t *testing.T) {
	w := &fsWorld{g: startAPIGW(t), be: newBackends(t)}
	w.apply(t, strings.NewReplacer("{poolAPort}", port(t, w.be.poolA), "{poolBPort}", port(t, w.be.poolB), "{canaryPort}", port(t, w.be.canary)).Replace(memberGroupDefs))
	w.publish(t)
	// The routes are there (publish waits for them); the groups' EDS
	// endpoints may follow a moment later.
	eventually(t, 20*time.Second, func() error {
		for _, path := range []string{"/split/0", "/ref", "/pol"} {
			if r := w.call(t, call{path: path, source: "127.0.0.1"}); r.status != http.StatusOK {
				return fmt.Errorf("%s: %s", path, r)
			}
		}
		return nil
	})

	t.Run("split", func(t *testing.T) {
		counts := map[string]int{}
		const n = 120
		for i := range n {
			id := strconv.Itoa(i)
			r := w.call(t, call{path: "/split/" + id})
			wantStatus(t, r, http.StatusOK)
			b, got, ok := w.be.find(r.requestID)
			if !ok {
				t.Fatalf("request %d reached no backend (%s)", i, r)
			}
			counts[b.name]++
			want := map[string][2]string{"pool-a": {"blue", "mg-blue"}, "pool-b": {"green", "mg-green"}}[b.name]
			if want[0] == "" {
				t.Fatalf("request %d reached %s, a member of no called group", i, b.name)
			}
			if got.Path != "/"+want[0]+"/"+id {
				t.Errorf("request %d: %s got path %s, want /%s/%s", i, b.name, got.Path, want[0], id)
			}
			wantHeader(t, got, "X-Group", want[0])
			wantHeader(t, got, "X-Group-Id", want[1])
		}
		// 3:1 of 120: 90 expected for blue (standard deviation 4.7).
		if counts["pool-a"] < 65 || counts["pool-a"] > 110 || counts["pool-b"] == 0 {
			t.Errorf("split blue:green = %d:%d, want about 90:30", counts["pool-a"], counts["pool-b"])
		}
	})

	t.Run("policy_selected_by_ext_authz", func(t *testing.T) {
		seen := map[string]bool{}
		for i := range 40 {
			r := w.call(t, call{path: "/pol", source: "127.0.0.1"})
			wantStatus(t, r, http.StatusOK)
			b, got, ok := w.be.find(r.requestID)
			if !ok {
				t.Fatalf("request %d reached no backend (%s)", i, r)
			}
			want := map[string]string{"pool-a": "blue", "pool-b": "green"}[b.name]
			if want == "" {
				t.Fatalf("request %d reached %s %s, not a member of the policy's groups (%s)", i, b.name, got.Path, r)
			}
			if got.Path != "/p-"+want {
				t.Errorf("request %d: %s got path %s, want /p-%s", i, b.name, got.Path, want)
			}
			wantHeader(t, got, "X-Group", want)
			seen[want] = true
		}
		if !seen["blue"] || !seen["green"] {
			t.Errorf("groups reached by the policy: %v, want both", seen)
		}
	})

	// A reference channel splits an ordinary channel backend between the
	// channels its groups point at, by group weight, with the backend's
	// path.
	t.Run("reference_channel", func(t *testing.T) {
		counts := map[string]int{}
		for i := range 80 {
			r := w.call(t, call{path: "/ref"})
			wantStatus(t, r, http.StatusOK)
			b, got, ok := w.be.find(r.requestID)
			if !ok || b != w.be.poolA && b != w.be.poolB || got.Path != "/via-ref" {
				t.Fatalf("request %d reached %v %s, want pool-a or pool-b /via-ref (%s)", i, b, got.Path, r)
			}
			counts[b.name]++
		}
		// 3:1 of 80: 60 expected for pool-a (standard deviation 3.9).
		if counts["pool-a"] < 42 || counts["pool-a"] > 75 || counts["pool-b"] == 0 {
			t.Errorf("split stable:next = %d:%d, want about 60:20", counts["pool-a"], counts["pool-b"])
		}
	})

	t.Run("policy_not_selected", func(t *testing.T) {
		r := w.call(t, call{path: "/pol", source: "10.9.9.9"})
		wantStatus(t, r, http.StatusOK)
		b, got, ok := w.be.find(r.requestID)
		if !ok || b != w.be.release || got.Path != "/default" {
			t.Errorf("another source reached %v %s, want the default backend /default", b, got.Path)
		}
	})
}
