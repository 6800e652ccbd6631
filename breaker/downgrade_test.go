package breaker_test

import (
	"testing"
	"time"

	"github.com/apigw/apigw/breaker"
	"github.com/apigw/apigw/model"
)

// Each downgrade kind decides what an open breaker does: http, http_vpc
// and func select the policy backend of the rule that defines the
// downgrade (a rule without downgrade_backend uses downgrade_default's),
// passthrough lets the request through with its headers.
func TestRegistryDowngradeKinds(t *testing.T) {
	content := `{"breaker_condition":{"breaker_type":"condition","unhealthy_condition":"[\"$context.statusCode\",\">=\",500]","unhealthy_threshold":1,"time_window":10,"open_breaker_time":30},` +
		`"downgrade_default":{"type":"http_vpc","http_vpc_info":{"vpc_channel_id":"ch1","scheme":"HTTP","method":"GET","path":"/fb"}},` +
		`"downgrade_parameters":[{"name":"tier","type":"header","value":"x-tier"}],` +
		`"downgrade_rules":[` +
		`{"rule_name":"pass","match_regex":"[\"tier\",\"==\",\"pass\"]","downgrade_backend":{"type":"passthrough","passthrough_infos":[{"key":"X-Degraded","value":"yes"},{"name":"X-Tier","value":"bronze"}]}},` +
		`{"rule_name":"pass0","match_regex":"[\"tier\",\"==\",\"pass0\"]","downgrade_backend":{"type":"passthrough"}},` +
		`{"rule_name":"fn","match_regex":"[\"tier\",\"==\",\"fn\"]","downgrade_backend":{"type":"function","func_info":{"function_urn":"urn:fss:r:p:function:default:fb"}}},` +
		`{"rule_name":"inherit","match_regex":"[\"tier\",\"==\",\"inherit\"]"}]}`
	r, feed, _ := newRegistry(t, world(content))
	for _, tier := range []string{"", "pass", "pass0", "fn", "inherit"} {
		req := mapRequest{"header:x-tier": tier}
		d := r.Decide(feed.Current(), model.DefaultInstance, "a1", model.ReleaseEnvID, req)
		if d.Open {
			t.Fatalf("%q: open before any call", tier)
		}
		c := rec("a1", 502, time.Millisecond)
		c.Rule = d.Rule
		r.Add(c)
	}
	for _, tc := range []struct {
		tier, rule, policy string
		pass               []string
	}{
		{"", "", "breaker:default", nil},
		{"inherit", "inherit", "breaker:default", nil},
		{"fn", "fn", "breaker:fn", nil},
		{"pass", "pass", "", []string{"X-Degraded=yes", "X-Tier=bronze"}},
		{"pass0", "pass0", "", []string{}},
	} {
		d := r.Decide(feed.Current(), model.DefaultInstance, "a1", model.ReleaseEnvID, mapRequest{"header:x-tier": tc.tier})
		if !d.Open || d.Rule != tc.rule || d.Policy != tc.policy || d.Mock != nil {
			t.Fatalf("%q: decision %+v, want open rule %q policy %q", tc.tier, d, tc.rule, tc.policy)
		}
		if (tc.pass == nil) != (d.Passthrough == nil) {
			t.Fatalf("%q: passthrough %v, want %v", tc.tier, d.Passthrough, tc.pass)
		}
		var got []string
		for _, h := range d.Passthrough {
			got = append(got, h.GetKey()+"="+h.GetValue())
		}
		if len(got) != len(tc.pass) || (len(got) > 0 && (got[0] != tc.pass[0] || got[1] != tc.pass[1])) {
			t.Fatalf("%q: passthrough headers %v, want %v", tc.tier, got, tc.pass)
		}
	}
	if s, _ := r.State(model.DefaultInstance, "a1", model.ReleaseEnvID, "pass"); s != breaker.Open {
		t.Fatalf("rule pass: %v", s)
	}
}
