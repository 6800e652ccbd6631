package model_test

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const rlParams = `"parameters":[{"type":"header","name":"Host","value":"Host"},{"type":"path","name":"reqPath","value":"reqPath"},` +
	`{"type":"method","name":"method","value":"method"},{"type":"query","name":"tier","value":"tier"},{"type":"system","name":"app","value":"appId"}]`

func TestRateLimitContentValidation(t *testing.T) {
	lim := model.AbsoluteLimits()
	lim.APILimits = 100 // per second
	rule := func(name, expr string) string {
		b := strings.ReplaceAll(expr, `"`, `\"`)
		return `{"rule_name":"` + name + `","match_regex":"` + b + `","limit":5}`
	}
	for _, tc := range []struct {
		name, content string
		want          string // a violated field path; "" = valid
	}{
		{"minimal", `{"api_limit":10}`, ""},
		{"unlimited", `{"api_limit":-1,"user_limit":-1,"app_limit":5,"ip_limit":7}`, ""},
		{"full", `{"scope":"share","default_time_unit":"minute","default_interval":2,"api_limit":100,"user_limit":50,"app_limit":20,"ip_limit":30,"algorithm":"counter",` +
			`"specials":[{"type":"app","policies":[{"key":"app1","limit":90}]},{"type":"user","policies":[{"key":"acc1","limit":3}]}],` + rlParams +
			`,"rules":[` + rule("r1", `["AND",["method","==","GET"],["reqPath","~~","^/v1/"]]`) + `,` +
			rule("r2", `["OR",["Host","in","a.example.com,b.example.com"],["tier","~=","gold"],["!AND",["app",">",3],["method","==","PUT"]]]`) + `]}`, ""},
		{"haht", `{"api_limit":10,"algorithm":"HAHT"}`, ""},
		{"api required", `{"user_limit":3}`, "plugin_content.api_limit"},
		{"api below -1", `{"api_limit":-2}`, "plugin_content.api_limit"},
		{"api above the instance", `{"api_limit":101}`, "plugin_content.api_limit"},
		{"api per minute ok", `{"api_limit":6000,"default_time_unit":"minute"}`, ""},
		{"user above api", `{"api_limit":10,"user_limit":11}`, "plugin_content.user_limit"},
		{"app above user", `{"api_limit":10,"user_limit":4,"app_limit":5}`, "plugin_content.app_limit"},
		{"ip above api", `{"api_limit":10,"ip_limit":11}`, "plugin_content.ip_limit"},
		{"negative ip", `{"api_limit":10,"ip_limit":-3}`, "plugin_content.ip_limit"},
		{"scope", `{"api_limit":10,"scope":"global"}`, "plugin_content.scope"},
		{"local refused", `{"api_limit":10,"algorithm":"local"}`, "plugin_content.algorithm"},
		{"unit", `{"api_limit":10,"default_time_unit":"week"}`, "plugin_content.default_time_unit"},
		{"interval", `{"api_limit":10,"default_interval":0}`, "plugin_content.default_interval"},
		{"period too long", `{"api_limit":10,"default_time_unit":"day","default_interval":4000}`, "plugin_content.default_interval"},
		{"special type", `{"api_limit":10,"specials":[{"type":"ip","policies":[{"key":"1.2.3.4","limit":1}]}]}`, "plugin_content.specials[0].type"},
		{"special above api", `{"api_limit":10,"specials":[{"type":"app","policies":[{"key":"a","limit":1},{"key":"b","limit":11}]}]}`, "plugin_content.specials[0].policies[1].limit"},
		{"special twice", `{"api_limit":10,"specials":[{"type":"app","policies":[{"key":"a","limit":1}]},{"type":"app","policies":[{"key":"a","limit":2}]}]}`, "plugin_content.specials[1].policies[0].key"},
		{"special key", `{"api_limit":10,"specials":[{"type":"user","policies":[{"limit":1}]}]}`, "plugin_content.specials[0].policies[0].key"},
		{"param type", `{"api_limit":10,"parameters":[{"type":"cookie","name":"c","value":"c"}]}`, "plugin_content.parameters[0].type"},
		{"param name", `{"api_limit":10,"parameters":[{"type":"header","name":"9x","value":"X"}]}`, "plugin_content.parameters[0].name"},
		{"param twice", `{"api_limit":10,"parameters":[{"type":"method","name":"m"},{"type":"path","name":"m"}]}`, "plugin_content.parameters[1].name"},
		{"param header value", `{"api_limit":10,"parameters":[{"type":"header","name":"h","value":"a b"}]}`, "plugin_content.parameters[0].value"},
		{"param system value", `{"api_limit":10,"parameters":[{"type":"system","name":"s","value":"backendResponseTime"}]}`, "plugin_content.parameters[0].value"},
		{"param path value", `{"api_limit":10,"parameters":[{"type":"path","name":"p","value":"/x"}]}`, "plugin_content.parameters[0].value"},
		{"rule unknown param", `{"api_limit":10,` + rlParams + `,"rules":[` + rule("r1", `["AND",["method","==","GET"],["Hots","==","x"]]`) + `]}`, "plugin_content.rules[0].match_regex[2][0]"},
		{"rule bad operator", `{"api_limit":10,` + rlParams + `,"rules":[` + rule("r1", `["OR",["method","==","GET"],["Host","=~","x"]]`) + `]}`, "plugin_content.rules[0].match_regex[2][1]"},
		{"rule not json", `{"api_limit":10,` + rlParams + `,"rules":[{"rule_name":"r1","match_regex":"method == GET","limit":1}]}`, "plugin_content.rules[0].match_regex"},
		{"rule no params", `{"api_limit":10,"rules":[` + rule("r1", `["method","==","GET"]`) + `]}`, "plugin_content.rules[0].match_regex[0]"},
		{"rule name twice", `{"api_limit":10,` + rlParams + `,"rules":[` + rule("r1", `["method","==","GET"]`) + `,` + rule("r1", `["method","==","PUT"]`) + `]}`, "plugin_content.rules[1].rule_name"},
		{"rule name", `{"api_limit":10,` + rlParams + `,"rules":[` + rule("r 1", `["method","==","GET"]`) + `]}`, "plugin_content.rules[0].rule_name"},
		{"rule limit", `{"api_limit":10,` + rlParams + `,"rules":[{"rule_name":"r1","match_regex":"[\"method\",\"==\",\"GET\"]"}]}`, "plugin_content.rules[0].limit"},
		{"rule unit", `{"api_limit":10,` + rlParams + `,"rules":[{"rule_name":"r1","match_regex":"[\"method\",\"==\",\"GET\"]","limit":1,"time_unit":"year"}]}`, "plugin_content.rules[0].time_unit"},
		{"rule interval", `{"api_limit":10,` + rlParams + `,"rules":[{"rule_name":"r1","match_regex":"[\"method\",\"==\",\"GET\"]","limit":1,"interval":-1}]}`, "plugin_content.rules[0].interval"},
		{"101 rules", `{"api_limit":10,` + rlParams + `,"rules":[` + strings.TrimSuffix(strings.Repeat(rule("r", `["method","==","GET"]`)+",", 101), ",") + `]}`, "plugin_content.rules"},
		{"unknown field", `{"api_limit":10,"burst":3}`, "plugin_content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := model.Validate(plugin("p1", "rate_limit", tc.content), lim)
			if tc.want == "" {
				if len(vs) > 0 {
					t.Fatalf("unexpected violations:\n%s", fieldsOf(vs))
				}
				return
			}
			found := false
			for _, v := range vs {
				found = found || v.Field == tc.want
			}
			if !found {
				t.Fatalf("want a violation of %s, got:\n%s", tc.want, fieldsOf(vs))
			}
		})
	}
}

func TestCompileRateLimit(t *testing.T) {
	p := plugin("rl1", "rate_limit", `{"scope":"SHARE","default_time_unit":"minute","default_interval":2,"api_limit":-1,"user_limit":5,"app_limit":-1,`+
		`"specials":[{"type":"app","policies":[{"key":"app1","limit":9}]}],`+rlParams+
		`,"rules":[{"rule_name":"gets","match_regex":"[\"method\",\"==\",\"GET\"]","limit":3,"time_unit":"second"},`+
		`{"rule_name":"any","match_regex":"[\"reqPath\",\"~~\",\"^/\"]","limit":7,"interval":10}]}`)
	rl, err := model.CompileRateLimit(p)
	if err != nil {
		t.Fatal(err)
	}
	if !rl.Shared || rl.API != 0 || rl.User != 5 || rl.App != 0 || rl.Interval != 2 || rl.Unit != model.UnitMinute {
		t.Errorf("limits: %+v", rl)
	}
	api, user, app, ip, rules := rl.Dims()
	if api || !user || !app || ip || !rules {
		t.Errorf("dims api=%v user=%v app=%v ip=%v rules=%v", api, user, app, ip, rules)
	}
	if n, ok := rl.Special(model.RateLimitSpecialApp, "app1"); !ok || n != 9 {
		t.Errorf("special app1 = %d, %v", n, ok)
	}
	if r := rl.Rule("gets"); r == nil || r.Interval != 2 || r.Unit != model.UnitSecond || r.Limit != 3 {
		t.Errorf("rule gets: %+v", r)
	}
	if r := rl.Rule("any"); r == nil || r.Interval != 10 || r.Unit != model.UnitMinute || r.Period().Minutes() != 10 {
		t.Errorf("rule any: %+v", r)
	}
	if rl.Params[0].Value != "host" {
		t.Errorf("header parameters are read lower case: %q", rl.Params[0].Value)
	}
	if _, err := model.CompileRateLimit(&apigwv1.Plugin{PluginName: "x", PluginType: "rate_limit", PluginContent: `{"api_limit":0}`}); err == nil {
		t.Error("an invalid content must not compile")
	}
}
