package extauth_test

import (
	"testing"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// rulesPlugin selects, top-down: GETs of /v1/ from gold-tier callers
// (header and query), then anything from www.abc.com with a method other
// than POST, then PATCH/PUT, then calls on server gw-1 naming stage TEST.
const rulesPlugin = `{"api_limit":100,` +
	`"parameters":[{"type":"header","name":"Host","value":"Host"},{"type":"header","name":"tier","value":"X-Tier"},{"type":"query","name":"plan","value":"plan"},` +
	`{"type":"path","name":"reqPath","value":"reqPath"},{"type":"method","name":"method","value":"method"},` +
	`{"type":"system","name":"server","value":"serverName"},{"type":"system","name":"stage","value":"stage"}],` +
	`"rules":[` +
	`{"rule_name":"gold_v1","match_regex":"[\"AND\",[\"method\",\"==\",\"GET\"],[\"reqPath\",\"~~\",\"^/shop/v1/\"],[\"OR\",[\"tier\",\"==\",\"gold\"],[\"plan\",\"==\",\"gold\"]]]","limit":50},` +
	`{"rule_name":"abc","match_regex":"[\"AND\",[\"Host\",\"==\",\"www.abc.com\"],[\"method\",\"~=\",\"POST\"]]","limit":10},` +
	`{"rule_name":"writes","match_regex":"[\"method\",\"in\",\"PATCH,PUT\"]","limit":5},` +
	`{"rule_name":"big_plan","match_regex":"[\"AND\",[\"server\",\"==\",\"gw-1\"],[\"stage\",\"==\",\"TEST\"],[\"plan\",\">\",100]]","limit":2}]}`

func rateLimitFixture(t *testing.T) *harness {
	t.Helper()
	f := newFixture("", nil)
	f.api(&apigwv1.Api{Id: "api-rl", Name: "shop_any", ReqMethod: model.MethodAny, ReqUri: "/shop", MatchMode: model.MatchPrefix, AuthType: model.AuthNone}, model.ReleaseEnvID, envTest)
	f.add(&apigwv1.Plugin{Id: "rl1", PluginName: "rules_plugin", PluginType: model.PluginRateLimit, PluginScope: model.PluginScopeGlobal, PluginContent: rulesPlugin},
		&apigwv1.PluginBinding{Id: "rlb1", ApiId: "api-rl", EnvId: envTest, PluginId: "rl1"})
	return newHarness(t, f.instance(t))
}

// ext_authz names the first matching rule of the API's rate_limit plug-in
// in its dynamic metadata, for the route's rule descriptor.
func TestRateLimitRuleSelection(t *testing.T) {
	h := rateLimitFixture(t)
	for _, tc := range []struct {
		name string
		req  envoyRequest
		want string // "" = no rule
	}{
		{"header gold", envoyRequest{path: "/shop/v1/items", headers: map[string]string{"X-Tier": "gold"}}, "gold_v1"},
		{"query gold", envoyRequest{path: "/shop/v1/items?plan=gold&plan=silver"}, "gold_v1"},
		{"first query value only", envoyRequest{path: "/shop/v1/items?plan=silver&plan=gold"}, ""},
		{"first rule before second", envoyRequest{host: "www.abc.com", path: "/shop/v1/x", headers: map[string]string{"X-Tier": "gold"}}, "gold_v1"},
		{"path outside v1 falls to abc", envoyRequest{host: "www.abc.com", path: "/shop/v2/x", headers: map[string]string{"X-Tier": "gold"}}, "abc"},
		{"abc but POST", envoyRequest{method: "POST", host: "www.abc.com", path: "/shop/x"}, ""},
		{"enumeration", envoyRequest{method: "PUT", path: "/shop/x"}, "writes"},
		{"system parameters and a number", envoyRequest{path: "/shop/x?plan=150"}, "big_plan"},
		{"number below", envoyRequest{path: "/shop/x?plan=99"}, ""},
		{"absent parameter", envoyRequest{path: "/shop/x"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.api, tc.req.env = "api-rl", envTest
			a := allowedResp(t, h.check(tc.req.checkRequest()))
			if got := a.meta[dataplane.ExtAuthzMetaRateLimitRule]; got != tc.want {
				t.Fatalf("rule %q, want %q", got, tc.want)
			}
		})
	}
	// Without the plug-in (RELEASE) no rule is named.
	a := allowedResp(t, h.check(envoyRequest{api: "api-rl", path: "/shop/v1/items", headers: map[string]string{"X-Tier": "gold"}}.checkRequest()))
	if got, ok := a.meta[dataplane.ExtAuthzMetaRateLimitRule]; ok {
		t.Fatalf("RELEASE has no plug-in, got rule %q", got)
	}
}
