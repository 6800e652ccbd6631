package extauth_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/extauth/orch"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// shard is the mapped parameter of the orchestration tests.
var shard = &apigwv1.OrchestrationMappedParam{MappedParamName: "X-Shard", MappedParamType: "string", MappedParamLocation: "header"}

func orchRule(id, strategy string, pre bool, entries ...*apigwv1.OrchestrationMap) *apigwv1.Orchestration {
	o := &apigwv1.Orchestration{Id: id, OrchestrationName: id, OrchestrationStrategy: strategy, IsPreprocessing: pre, OrchestrationMap: entries}
	if !pre {
		o.OrchestrationMappedParam = shard
	}
	return o
}

func listEntry(value string, in ...string) *apigwv1.OrchestrationMap {
	return &apigwv1.OrchestrationMap{MapParamList: in, MappedParamValue: value}
}

func rangeEntry(value, lo, hi string) *apigwv1.OrchestrationMap {
	return &apigwv1.OrchestrationMap{MapParamRange: &apigwv1.OrchestrationRange{RangeStart: lo, RangeEnd: hi}, MappedParamValue: value}
}

// orchHarness serves one API whose query parameter tenant is mapped by the
// rules to the header X-Shard; the backend also gets X-Shard as the query
// parameter shard, and the policy shard_two serves X-Shard = 2.
func orchHarness(t *testing.T, rules ...*apigwv1.Orchestration) *harness {
	t.Helper()
	f := newFixture("", nil)
	var ids []string
	for _, r := range rules {
		f.add(r)
		ids = append(ids, r.Id)
	}
	// The orchestration errors' statuses are customized, which tells them
	// apart.
	f.add(&apigwv1.GatewayResponse{Id: "resp-orch", GroupId: "g1", Name: "orch", Responses: map[string]*apigwv1.ResponseInfo{
		"ORCHESTRATION_PARAMETER_NOT_FOUND": {Status: 422}, "ORCHESTRATION_FAILURE": {Status: 409},
	}})
	f.api(&apigwv1.Api{Id: "api-orch", Name: "sharded", ReqUri: "/sharded", AuthType: model.AuthNone, ResponseId: "resp-orch",
		ReqParams:  []*apigwv1.ReqParam{{Name: "tenant", Location: model.LocQuery, Orchestrations: ids}},
		BackendApi: &apigwv1.BackendApi{UrlDomain: "default.internal", ReqUri: "/default"},
		BackendParams: []*apigwv1.BackendParam{
			{Name: "shard", Location: model.LocQuery, Origin: model.OriginRequest, Value: "X-Shard"},
		},
		PolicyHttps: []*apigwv1.PolicyHttp{{Name: "shard_two", UrlDomain: "two.internal", ReqUri: "/two", Conditions: []*apigwv1.Condition{
			{ConditionOrigin: model.CondParam, ReqParamName: "X-Shard", ConditionType: model.CondExact, ConditionValue: "2"},
		}}}})
	return newHarness(t, f.instance(t))
}

// Each strategy through ext_authz: the mapped header reaches the backend,
// the mapped parameter feeds a backend parameter and selects a policy
// backend; absent input and no match answer the two orchestration errors.
func TestOrchestrationStrategies(t *testing.T) {
	list := orchRule("by_list", model.OrchList, false, listEntry("1", "acme", "globex"), listEntry("2", "initech"))
	rng := orchRule("by_range", model.OrchRange, false, rangeEntry("1", "0", "999"), rangeEntry("2", "1000", "1999"))
	hash := orchRule("by_hash", model.OrchHash, false)
	hashRange := orchRule("by_hash_range", model.OrchHashRange, false, rangeEntry("1", "0", "4611686018427387903"), rangeEntry("2", "4611686018427387904", "9223372036854775807"))
	none := orchRule("if_none", model.OrchNoneValue, false, &apigwv1.OrchestrationMap{MappedParamValue: "0"})
	def := orchRule("otherwise", model.OrchDefault, false, &apigwv1.OrchestrationMap{MappedParamValue: "9"})
	head := orchRule("head2", model.OrchHeadN, true, &apigwv1.OrchestrationMap{InterceptLength: 2})
	tail := orchRule("tail3", model.OrchTailN, false, &apigwv1.OrchestrationMap{InterceptLength: 3})
	prefixes := orchRule("by_prefix", model.OrchList, false, listEntry("1", "ac"), listEntry("2", "in"))
	half := func(s string) string {
		if orch.Hash(s) < 1<<62 {
			return "1"
		}
		return "2"
	}
	cases := []struct {
		name  string
		rules []*apigwv1.Orchestration
		query string
		want  string // mapped value; "" = denied with code
		code  string // gateway-response type of the denial
	}{
		{"list", []*apigwv1.Orchestration{list}, "?tenant=initech", "2", ""},
		{"list first entry", []*apigwv1.Orchestration{list}, "?tenant=globex", "1", ""},
		{"list no match", []*apigwv1.Orchestration{list}, "?tenant=hooli", "", "ORCHESTRATION_FAILURE"},
		{"list absent", []*apigwv1.Orchestration{list}, "", "", "ORCHESTRATION_PARAMETER_NOT_FOUND"},
		{"range", []*apigwv1.Orchestration{rng}, "?tenant=1500", "2", ""},
		{"range not a number", []*apigwv1.Orchestration{rng}, "?tenant=abc", "", "ORCHESTRATION_FAILURE"},
		{"hash", []*apigwv1.Orchestration{hash}, "?tenant=acme", strconv.FormatInt(orch.Hash("acme"), 10), ""},
		{"hash_range", []*apigwv1.Orchestration{hashRange}, "?tenant=acme", half("acme"), ""},
		{"none_value", []*apigwv1.Orchestration{none, list}, "", "0", ""},
		{"none_value on empty", []*apigwv1.Orchestration{none, list}, "?tenant=", "0", ""},
		{"default", []*apigwv1.Orchestration{list, def}, "?tenant=hooli", "9", ""},
		{"tail_n", []*apigwv1.Orchestration{tail}, "?tenant=tenant10042", "042", ""},
		{"head_n preprocessing then list", []*apigwv1.Orchestration{head, prefixes}, "?tenant=initrode", "2", ""},
		{"preprocessing, no match, default", []*apigwv1.Orchestration{head, prefixes, def}, "?tenant=umbrella", "9", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := orchHarness(t, c.rules...)
			resp := h.check(envoyRequest{api: "api-orch", path: "/sharded" + c.query, headers: map[string]string{"X-Shard": "forged"}}.checkRequest())
			if c.code != "" {
				want := map[string]int{"ORCHESTRATION_PARAMETER_NOT_FOUND": 422, "ORCHESTRATION_FAILURE": 409}[c.code]
				status, b, _ := denied(t, resp)
				if status != want || b.Code != "APIG.0106" {
					t.Fatalf("got %d %+v, want %d APIG.0106 (%s)", status, b, want, c.code)
				}
				return
			}
			a := allowedResp(t, resp)
			if got := a.headers["x-shard"]; got != c.want {
				t.Errorf("X-Shard to the backend %q, want %q (headers %v)", got, c.want, a.headers)
			}
			policy := a.headers[dataplane.ExtAuthzPolicyHeader]
			if (c.want == "2") != (policy == "shard_two") {
				t.Errorf("mapped %q selected policy %q", c.want, policy)
			}
			// The default backend maps X-Shard to its query parameter
			// shard (the policy backend has no parameters).
			if got := a.querySet["shard"]; policy == "" && got != c.want {
				t.Errorf("backend parameter shard %q, want %q", got, c.want)
			}
		})
	}
}

// BenchmarkCheckOrchestration measures the in-process Check of the same
// API with and without its orchestration rules (a preprocessing head_n, a
// 100-entry list and a default) side by side. Run with
//
//	go test ./extauth -run '^$' -bench BenchmarkCheckOrchestration -benchmem
func BenchmarkCheckOrchestration(b *testing.B) {
	var entries []*apigwv1.OrchestrationMap
	for i := range 100 {
		entries = append(entries, listEntry(strconv.Itoa(i%7), "t"+strconv.Itoa(i)))
	}
	head := orchRule("head2", model.OrchHeadN, true, &apigwv1.OrchestrationMap{InterceptLength: 3})
	list := orchRule("by_list", model.OrchList, false, entries...)
	def := orchRule("otherwise", model.OrchDefault, false, &apigwv1.OrchestrationMap{MappedParamValue: "9"})
	for _, c := range []struct {
		name  string
		rules []*apigwv1.Orchestration
	}{{"baseline_no_rules", nil}, {"head_n_list100_default", []*apigwv1.Orchestration{head, list, def}}} {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture("", nil)
			var ids []string
			for _, r := range c.rules {
				f.add(r)
				ids = append(ids, r.Id)
			}
			f.api(&apigwv1.Api{Id: "api-orch", Name: "sharded", ReqUri: "/sharded", AuthType: model.AuthNone,
				ReqParams:  []*apigwv1.ReqParam{{Name: "tenant", Location: model.LocQuery, Orchestrations: ids}},
				BackendApi: &apigwv1.BackendApi{UrlDomain: "default.internal", ReqUri: "/default"}})
			h := newHarness(b, f.instance(b))
			req := envoyRequest{api: "api-orch", path: "/sharded?tenant=t42x"}.checkRequest()
			ctx := context.Background()
			if resp, err := h.srv.Check(ctx, req); err != nil || resp.GetStatus().GetCode() != 0 {
				b.Fatalf("not allowed: %v %v", err, resp)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.srv.Check(ctx, req)
			}
		})
	}
}
