package quota_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
	"github.com/apigw/apigw/ratelimit/quota"
)

// A rate_limit plug-in's limits and counter keys: scope basic counts in
// the API's counters (those of an exclusive policy), scope share in the
// plug-in's; a rule is counted per scope and rule name.
func TestResolveRateLimitPlugin(t *testing.T) {
	basic := &apigwv1.Plugin{Id: "p1", PluginName: "rl_basic", PluginType: model.PluginRateLimit, PluginContent: `{"default_time_unit":"hour","api_limit":7,"app_limit":-1,"ip_limit":2,` +
		`"specials":[{"type":"app","policies":[{"key":"` + fx.AppPlain + `","limit":3}]}],"parameters":[{"type":"method","name":"m"}],` +
		`"rules":[{"rule_name":"r1","match_regex":"[\"m\",\"==\",\"GET\"]","limit":4,"interval":30,"time_unit":"second"}]}`}
	share := &apigwv1.Plugin{Id: "p2", PluginName: "rl_share", PluginType: model.PluginRateLimit, PluginContent: `{"scope":"share","api_limit":9}`}
	in := fx.NewInstance().With([]proto.Message{basic, share,
		&apigwv1.PluginBinding{Id: "b1", ApiId: fx.APIExclusive, EnvId: fx.Env, PluginId: "p1"},
		&apigwv1.PluginBinding{Id: "b2", ApiId: fx.APIDefault, EnvId: fx.Env, PluginId: "p2"}}, nil)
	for _, c := range []struct {
		name     string
		d        dataplane.RateLimitDescriptor
		requests uint64
		period   time.Duration
		key      string // "" = no limit
	}{
		{"basic api", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimAPI, ""), 7, time.Hour, "{default/e1/api:api-excl}api"},
		{"app -1", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, fx.AppSpecialLow), 0, 0, ""},
		{"app special", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, fx.AppPlain), 3, time.Hour, "{default/e1/api:api-excl}app/" + fx.AppPlain},
		{"ip", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimIP, "10.0.0.1"), 2, time.Hour, "{default/e1/api:api-excl}ip/10.0.0.1"},
		{"user not limited", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimUser, "acct"), 0, 0, ""},
		{"rule", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimRule, "r1"), 4, 30 * time.Second, "{default/e1/api:api-excl}rule/r1"},
		{"unknown rule", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimRule, "r2"), 0, 0, ""},
		{"share api", desc(fx.APIDefault, fx.Env, dataplane.RateLimitDimAPI, ""), 9, time.Second, "{default/e1/plugin:p2}api"},
		{"rule without plug-in", desc(fx.APIShared1, fx.Env, dataplane.RateLimitDimRule, "r1"), 0, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, ok := quota.Resolve(in, c.d)
			if c.key == "" {
				if ok {
					t.Fatalf("got %+v, want no limit", l)
				}
				return
			}
			if !ok || l.Requests != c.requests || l.Period != c.period || l.Key != c.key {
				t.Fatalf("got %+v (ok %v), want %d per %v in %s", l, ok, c.requests, c.period, c.key)
			}
		})
	}
}
