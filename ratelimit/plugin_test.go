package ratelimit_test

import (
	"testing"
	"time"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
)

// rateLimitPlugin is a rate_limit plug-in (Request Throttling 2.0).
func rateLimitPlugin(id, content string) *apigwv1.Plugin {
	return &apigwv1.Plugin{Id: id, PluginName: "rl_" + id, PluginType: model.PluginRateLimit, PluginScope: model.PluginScopeGlobal, PluginContent: content}
}

func pluginBinding(id, api, plugin string) *apigwv1.PluginBinding {
	return &apigwv1.PluginBinding{Id: id, ApiId: api, EnvId: fx.Env, PluginId: plugin}
}

// basicPlugin: 8 calls per minute per API, 4 per account, 3 per app, no
// ip limit; app-high may make 5 and acct-special 1; GET requests (rule
// gets) 2 per 10 s, other requests (rule rest) 4 per minute.
const basicPlugin = `{"scope":"basic","default_time_unit":"minute","default_interval":1,"api_limit":8,"user_limit":4,"app_limit":3,"ip_limit":-1,` +
	`"specials":[{"type":"app","policies":[{"key":"` + fx.AppSpecialHigh + `","limit":5}]},{"type":"user","policies":[{"key":"` + fx.AccountSpecial + `","limit":1}]}],` +
	`"parameters":[{"type":"method","name":"method","value":"method"}],` +
	`"rules":[{"rule_name":"gets","match_regex":"[\"method\",\"==\",\"GET\"]","limit":2,"interval":10,"time_unit":"second"},` +
	`{"rule_name":"rest","match_regex":"[\"method\",\"~=\",\"GET\"]","limit":4}]}`

// A bound rate_limit plug-in replaces the throttling policy: its limits,
// its name, -1 as no limit, its specials.
func TestRateLimitPluginReplacesThePolicy(t *testing.T) {
	e := start(t, nil)
	in := e.feed.Current().Instance(fx.Instance)
	e.feed.Publish(fx.Edit(2, in, rateLimitPlugin("p1", basicPlugin), pluginBinding("pb1", fx.APIExclusive, "p1")))

	// The policy's api limit is 10, the plug-in's 8.
	r := e.okUntil(t, 8, call{api: fx.APIExclusive, ip: "10.0.0.1"})
	if !eqCodes(codes(r), OVER, OK) {
		t.Fatalf("statuses %v, want the api over", codes(r))
	}
	if got := r.Statuses[0].CurrentLimit.GetName(); got != "rl_p1" {
		t.Errorf("limit name %q, want the plug-in's", got)
	}
	if r.Statuses[1].CurrentLimit != nil {
		t.Errorf("ip_limit -1 limits: %v", r.Statuses[1])
	}
	if md := r.DynamicMetadata.GetFields(); md[dataplane.RateLimitMetaErrorCode].GetStringValue() != "APIG.0308" || md[dataplane.RateLimitMetaDim].GetStringValue() != dataplane.RateLimitDimAPI {
		t.Errorf("dynamic metadata %v", md)
	}

	// The other environment keeps the instance default (no binding there).
	if r := e.do(t, call{api: fx.APIExclusive, env: fx.Release}); r.Statuses[0].CurrentLimit.GetRequestsPerUnit() != fx.APILimits {
		t.Errorf("RELEASE: %v", r.Statuses[0])
	}

	e.clock.Advance(2 * time.Minute)
	e.okUntil(t, 3, call{api: fx.APIExclusive, app: fx.AppPlain})       // app_limit 3
	e.okUntil(t, 5, call{api: fx.APIExclusive, app: fx.AppSpecialHigh}) // special 5 > default 3
	e.clock.Advance(2 * time.Minute)
	e.okUntil(t, 4, call{api: fx.APIExclusive, account: "acct-1"})          // user_limit 4
	e.okUntil(t, 1, call{api: fx.APIExclusive, account: fx.AccountSpecial}) // special 1
}

// The rule ext_authz matched limits the request with the rule's own
// limit and period, counted per API and rule; the basic limits still
// apply.
func TestRateLimitPluginRules(t *testing.T) {
	e := start(t, nil)
	in := e.feed.Current().Instance(fx.Instance)
	e.feed.Publish(fx.Edit(2, in, rateLimitPlugin("p1", basicPlugin), pluginBinding("pb1", fx.APIExclusive, "p1")))

	r := e.okUntil(t, 2, call{api: fx.APIExclusive, rule: "gets", debug: true})
	if !eqCodes(codes(r), OK, OVER, OK) {
		t.Fatalf("statuses %v, want the rule over", codes(r))
	}
	st := r.Statuses[1]
	if st.CurrentLimit.GetName() != "rl_p1/gets" || st.CurrentLimit.GetRequestsPerUnit() != 2 || st.CurrentLimit.GetUnitMultiplier().GetValue() != 10 {
		t.Errorf("rule status %v", st)
	}
	if md := r.DynamicMetadata.GetFields(); md[dataplane.RateLimitMetaDim].GetStringValue() != dataplane.RateLimitDimRule {
		t.Errorf("dynamic metadata %v", md)
	}
	// Another rule has its own counter: 4 per minute; the refused GETs
	// counted nowhere, so the API has used 2 of 8.
	e.okUntil(t, 4, call{api: fx.APIExclusive, rule: "rest"})
	// The gets rule's 10 s window slides past its hits (11 s with the
	// sliding window's last bucket).
	e.clock.Advance(11 * time.Second)
	if r := e.do(t, call{api: fx.APIExclusive, rule: "gets"}); r.OverallCode != OK {
		t.Fatalf("gets after its period: %v", codes(r))
	}
	// 7 calls admitted; the 8th fills the API limit before the rule's.
	e.do(t, call{api: fx.APIExclusive, rule: "gets"})
	r = e.do(t, call{api: fx.APIExclusive})
	if r.OverallCode != OVER || r.Statuses[0].Code != OVER {
		t.Fatalf("api limit with rules: %v", codes(r))
	}
	// A rule the plug-in no longer has (renamed after ext_authz matched
	// it) has no limit.
	e.clock.Advance(2 * time.Minute)
	if r := e.do(t, call{api: fx.APIExclusive, rule: "ghost"}); r.OverallCode != OK || r.Statuses[1].CurrentLimit != nil {
		t.Fatalf("unknown rule: %v", r.Statuses[1])
	}
}

// api_limit -1: no limit on the api dimension, not even the instance
// default.
func TestRateLimitPluginUnlimitedAPI(t *testing.T) {
	e := start(t, nil)
	in := e.feed.Current().Instance(fx.Instance)
	e.feed.Publish(fx.Edit(2, in, rateLimitPlugin("p2", `{"api_limit":-1,"ip_limit":3}`), pluginBinding("pb2", fx.APIDefault, "p2")))
	for i := range fx.APILimits + 20 {
		if r := e.do(t, call{api: fx.APIDefault}); r.OverallCode != OK || r.Statuses[0].CurrentLimit != nil {
			t.Fatalf("call %d: %v", i+1, r.Statuses[0])
		}
	}
	e.okUntil(t, 3, call{api: fx.APIDefault, ip: "10.9.9.9"})
}

// Scope share: the APIs bound to the plug-in count together, on every
// dimension and rule.
func TestRateLimitPluginShare(t *testing.T) {
	e := start(t, nil)
	in := e.feed.Current().Instance(fx.Instance)
	share := `{"scope":"share","api_limit":5,"default_interval":10,"parameters":[{"type":"path","name":"reqPath"}],` +
		`"rules":[{"rule_name":"all","match_regex":"[\"reqPath\",\"~~\",\"^/\"]","limit":3}]}`
	e.feed.Publish(fx.Edit(2, in, rateLimitPlugin("p3", share), pluginBinding("pb3", fx.APIDefault, "p3"), pluginBinding("pb4", fx.APIExclusive, "p3")))
	e.do(t, call{api: fx.APIDefault, rule: "all"})
	e.do(t, call{api: fx.APIExclusive, rule: "all"})
	e.do(t, call{api: fx.APIDefault, rule: "all"})
	if r := e.do(t, call{api: fx.APIExclusive, rule: "all"}); !eqCodes(codes(r), OK, OVER) {
		t.Fatalf("shared rule counter: %v", codes(r))
	}
	e.do(t, call{api: fx.APIExclusive})
	e.do(t, call{api: fx.APIDefault})
	if r := e.do(t, call{api: fx.APIExclusive}); r.OverallCode != OVER {
		t.Fatalf("shared api counter: %v", codes(r))
	}
}

// A bound rate_limit plug-in that cannot be read holds the API closed:
// every descriptor, the rule's included, refuses with APIG.0601; never
// the throttling policy it replaced, nor no limit.
func TestUnreadableRateLimitPluginFailsClosed(t *testing.T) {
	e := start(t, nil)
	objs := append(fx.Objects(), pluginBinding("pb1", fx.APIExclusive, "p-gone"))
	in := model.NewInstanceWith(fx.Instance, objs, []model.Placeholder{{Kind: model.KindPlugin, ID: "p-gone", Reason: "not a valid plugin"}})
	e.feed.Publish(live.NewSnapshot(2, map[string]*model.Instance{fx.Instance: in}, nil))
	for _, c := range []call{{api: fx.APIExclusive}, {api: fx.APIExclusive, rule: "gets"}} {
		r := e.do(t, c)
		if md := r.GetDynamicMetadata().GetFields(); r.OverallCode != OVER || md["error_code"].GetStringValue() != "APIG.0601" {
			t.Fatalf("%+v: %v %v", c, r.OverallCode, md)
		}
	}
}
