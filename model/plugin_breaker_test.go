package model_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// brk builds a breaker content from its condition and extra top-level
// members.
func brk(cond, extra string) string {
	s := `{"breaker_condition":` + cond
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

const (
	condOK    = `{"breaker_type":"condition","breaker_mode":"counter","unhealthy_condition":"[\"OR\",[\"$context.statusCode\",\"in\",\"500,502\"],[\"$context.backendResponseTime\",\">\",3000]]","unhealthy_threshold":30,"time_window":15,"open_breaker_time":15}`
	timeoutOK = `{"breaker_type":"timeout","breaker_mode":"percentage","unhealthy_condition":"","min_call_threshold":20,"unhealthy_percentage":51,"time_window":15,"open_breaker_time":15}`
	params    = `"downgrade_parameters":[{"name":"reqPath","type":"path","value":"path"},{"name":"method","type":"method","value":"method"},{"name":"srv","type":"system","value":"serverName"},{"name":"q","type":"query","value":"q"}]`
	mockOK    = `"downgrade_default":{"type":"mock","mock_info":{"status_code":200,"result_content":"{status: ok}","headers":[{"key":"X-Degraded","value":"1"}]},"http_info":null,"func_info":null,"http_vpc_info":null,"passthrough_infos":null}`
)

func TestBreakerContentValidation(t *testing.T) {
	lim := model.AbsoluteLimits()
	for _, tc := range []struct {
		name, content string
		want          string // a violated field path; "" = valid
	}{
		{"condition counter mock", brk(condOK, mockOK+`,"scope":"basic"`), ""},
		{"timeout percentage share no downgrade", brk(timeoutOK, `"scope":"share","downgrade_default":null,"downgrade_parameters":[],"downgrade_rules":[]`), ""},
		{"default mode counter", brk(`{"breaker_type":"timeout","unhealthy_threshold":3,"time_window":5,"open_breaker_time":5}`, ""), ""},
		{"no condition", `{"scope":"basic"}`, "plugin_content.breaker_condition"},
		{"bad scope", brk(condOK, `"scope":"global"`), "plugin_content.scope"},
		{"bad type", brk(`{"breaker_type":"latency","unhealthy_threshold":3,"time_window":5,"open_breaker_time":5}`, ""), "plugin_content.breaker_condition.breaker_type"},
		{"bad mode", brk(`{"breaker_type":"timeout","breaker_mode":"ratio","time_window":5,"open_breaker_time":5}`, ""), "plugin_content.breaker_condition.breaker_mode"},
		{"counter without threshold", brk(`{"breaker_type":"timeout","time_window":5,"open_breaker_time":5}`, ""), "plugin_content.breaker_condition.unhealthy_threshold"},
		{"percentage without min calls", brk(`{"breaker_type":"timeout","breaker_mode":"percentage","unhealthy_percentage":50,"time_window":5,"open_breaker_time":5}`, ""), "plugin_content.breaker_condition.min_call_threshold"},
		{"percentage over 100", brk(`{"breaker_type":"timeout","breaker_mode":"percentage","min_call_threshold":1,"unhealthy_percentage":101,"time_window":5,"open_breaker_time":5}`, ""), "plugin_content.breaker_condition.unhealthy_percentage"},
		{"no window", brk(`{"breaker_type":"timeout","unhealthy_threshold":3,"open_breaker_time":5}`, ""), "plugin_content.breaker_condition.time_window"},
		{"open time too long", brk(`{"breaker_type":"timeout","unhealthy_threshold":3,"time_window":5,"open_breaker_time":3601}`, ""), "plugin_content.breaker_condition.open_breaker_time"},
		{"condition missing", brk(`{"breaker_type":"condition","unhealthy_threshold":3,"time_window":5,"open_breaker_time":5}`, ""), "plugin_content.breaker_condition.unhealthy_condition"},
		{"condition not an expression", brk(`{"breaker_type":"condition","unhealthy_condition":"statusCode > 500","unhealthy_threshold":3,"time_window":5,"open_breaker_time":5}`, ""), "plugin_content.breaker_condition.unhealthy_condition"},
		{"condition unknown parameter", brk(`{"breaker_type":"condition","unhealthy_condition":"[\"reqPath\",\"==\",\"/a\"]","unhealthy_threshold":3,"time_window":5,"open_breaker_time":5}`, ""), "plugin_content.breaker_condition.unhealthy_condition"},
		{"timeout with condition", brk(`{"breaker_type":"timeout","unhealthy_condition":"[\"$context.statusCode\",\"==\",500]","unhealthy_threshold":3,"time_window":5,"open_breaker_time":5}`, ""), "plugin_content.breaker_condition.unhealthy_condition"},
		{"http downgrade", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"isVpc":false,"vpc_channel_id":"","address":"10.10.10.10","scheme":"HTTP","method":"GET","path":"/demo","timeout":5000}}`), ""},
		{"http without info", brk(condOK, `"downgrade_default":{"type":"http"}`), "plugin_content.downgrade_default.http_info"},
		{"http without address", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"scheme":"HTTP","method":"GET","path":"/demo"}}`), "plugin_content.downgrade_default.http_info.address"},
		{"http bad scheme", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"address":"a.example.com","scheme":"FTP","method":"GET","path":"/demo"}}`), "plugin_content.downgrade_default.http_info.scheme"},
		{"http bad method", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"address":"a.example.com","scheme":"HTTPS","method":"FETCH","path":"/demo"}}`), "plugin_content.downgrade_default.http_info.method"},
		{"http path parameter", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"address":"a.example.com","scheme":"HTTPS","method":"GET","path":"/demo/{id}"}}`), "plugin_content.downgrade_default.http_info.path"},
		{"http timeout", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"address":"a.example.com","scheme":"HTTPS","method":"GET","path":"/demo","timeout":600001}}`), "plugin_content.downgrade_default.http_info.timeout"},
		{"http isVpc without channel", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"isVpc":true,"scheme":"HTTP","method":"GET","path":"/demo"}}`), "plugin_content.downgrade_default.http_info.vpc_channel_id"},
		{"http isVpc channel", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"isVpc":true,"vpc_channel_id":"ch1","scheme":"HTTP","method":"GET","path":"/demo"}}`), ""},
		{"http isVpc with address", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"isVpc":true,"vpc_channel_id":"ch1","address":"a.example.com","scheme":"HTTP","method":"GET","path":"/demo"}}`), "plugin_content.downgrade_default.http_info.address"},
		{"http channel without isVpc", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"vpc_channel_id":"ch1","address":"a.example.com","scheme":"HTTP","method":"GET","path":"/demo"}}`), "plugin_content.downgrade_default.http_info.vpc_channel_id"},
		{"http_vpc downgrade", brk(condOK, `"downgrade_default":{"type":"http_vpc","http_vpc_info":{"vpc_channel_id":"ch1","scheme":"HTTPS","method":"ANY","path":"/demo","timeout":3000},"http_info":null,"mock_info":null,"func_info":null,"passthrough_infos":null}`), ""},
		{"http_vpc without info", brk(condOK, `"downgrade_default":{"type":"http_vpc"}`), "plugin_content.downgrade_default.http_vpc_info"},
		{"http_vpc without channel", brk(condOK, `"downgrade_default":{"type":"http_vpc","http_vpc_info":{"scheme":"HTTP","method":"GET","path":"/demo"}}`), "plugin_content.downgrade_default.http_vpc_info.vpc_channel_id"},
		{"http_vpc bad path", brk(condOK, `"downgrade_default":{"type":"http_vpc","http_vpc_info":{"vpc_channel_id":"ch1","scheme":"HTTP","method":"GET","path":"demo"}}`), "plugin_content.downgrade_default.http_vpc_info.path"},
		{"http_vpc unknown field", brk(condOK, `"downgrade_default":{"type":"http_vpc","http_vpc_info":{"vpc_channel_id":"ch1","scheme":"HTTP","method":"GET","path":"/demo","weight":3}}`), "plugin_content.downgrade_default.http_vpc_info"},
		{"http_vpc in http_info not vpc", brk(condOK, `"downgrade_default":{"type":"http_vpc","http_info":{"vpc_channel_id":"ch1","scheme":"HTTP","method":"GET","path":"/demo"}}`), "plugin_content.downgrade_default.http_info.isVpc"},
		{"http_vpc_info of another type", brk(condOK, `"downgrade_default":{"type":"mock","mock_info":{},"http_vpc_info":{"vpc_channel_id":"ch1"}}`), "plugin_content.downgrade_default.http_vpc_info"},
		{"passthrough", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":[{"key":"X-Degraded","value":"1"},{"name":"X-Tier","value":"bronze"}]}`), ""},
		{"passthrough without headers", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":null}`), ""},
		{"passthrough header without key", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":[{"value":"x"}]}`), "plugin_content.downgrade_default.passthrough_infos[0].key"},
		{"passthrough gateway header", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":[{"key":"X-Degraded","value":"1"},{"key":"x-apigw-policy","value":"p"}]}`), "plugin_content.downgrade_default.passthrough_infos[1].key"},
		{"passthrough host", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":[{"key":"Host","value":"evil"}]}`), "plugin_content.downgrade_default.passthrough_infos[0].key"},
		{"passthrough stage header", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":[{"key":"X-Stage","value":"TEST"}]}`), "plugin_content.downgrade_default.passthrough_infos[0].key"},
		{"passthrough header twice", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":[{"key":"X-A","value":"1"},{"key":"x-a","value":"2"}]}`), "plugin_content.downgrade_default.passthrough_infos[1].key"},
		{"passthrough header CR", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":[{"key":"X-A","value":"a\rb"}]}`), "plugin_content.downgrade_default.passthrough_infos[0].value"},
		{"passthrough not an object", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":["X-A"]}`), "plugin_content.downgrade_default.passthrough_infos"},
		{"passthrough unknown member", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":[{"key":"X-A","value":"1","remark":"r"}]}`), "plugin_content.downgrade_default.passthrough_infos"},
		{"passthrough eleven headers", brk(condOK, `"downgrade_default":{"type":"passthrough","passthrough_infos":[`+strings.TrimSuffix(strings.Repeat(`{"key":"X-A","value":"1"},`, 11), ",")+`]}`), "plugin_content.downgrade_default.passthrough_infos"},
		{"passthrough_infos on http", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"address":"a.example.com","scheme":"HTTP","method":"GET","path":"/demo"},"passthrough_infos":[{"key":"X-A","value":"1"}]}`), "plugin_content.downgrade_default.passthrough_infos"},
		{"empty infos of other types", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"address":"a.example.com","scheme":"HTTP","method":"GET","path":"/demo"},"passthrough_infos":[],"func_info":{},"http_vpc_info":{}}`), ""},
		{"func", brk(condOK, `"downgrade_default":{"type":"func","func_info":{"function_urn":"urn:fss:r:p:function:default:fallback","version":"latest","invocation_type":"sync","timeout":3000}}`), ""},
		{"function spelling", brk(condOK, `"downgrade_default":{"type":"function","func_info":{"function_urn":"urn:fss:r:p:function:default:fallback","alias_urn":"urn:fss:r:p:function:default:fallback:!blue"}}`), ""},
		{"func without info", brk(condOK, `"downgrade_default":{"type":"func"}`), "plugin_content.downgrade_default.func_info"},
		{"func without urn", brk(condOK, `"downgrade_default":{"type":"func","func_info":{"version":"latest"}}`), "plugin_content.downgrade_default.func_info.function_urn"},
		{"func bad invocation", brk(condOK, `"downgrade_default":{"type":"func","func_info":{"function_urn":"urn:fss:r:p:function:default:f","invocation_type":"later"}}`), "plugin_content.downgrade_default.func_info.invocation_type"},
		{"func V1 timeout", brk(condOK, `"downgrade_default":{"type":"func","func_info":{"function_urn":"urn:fss:r:p:function:default:f","timeout":60001}}`), "plugin_content.downgrade_default.func_info.timeout"},
		{"func authorizer", brk(condOK, `"downgrade_default":{"type":"func","func_info":{"function_urn":"urn:fss:r:p:function:default:f","authorizer_id":"a1"}}`), "plugin_content.downgrade_default.func_info.authorizer_id"},
		{"func version and alias", brk(condOK, `"downgrade_default":{"type":"func","func_info":{"function_urn":"urn:fss:r:p:function:default:f","version":"1","alias_urn":"urn:x"}}`), "plugin_content.downgrade_default.func_info.alias_urn"},
		{"func unknown field", brk(condOK, `"downgrade_default":{"type":"func","func_info":{"function_urn":"urn:fss:r:p:function:default:f","memory":128}}`), "plugin_content.downgrade_default.func_info"},
		{"unknown type", brk(condOK, `"downgrade_default":{"type":"redirect"}`), "plugin_content.downgrade_default.type"},
		{"mock without info", brk(condOK, `"downgrade_default":{"type":"mock"}`), "plugin_content.downgrade_default.mock_info"},
		{"mock bad status", brk(condOK, `"downgrade_default":{"type":"mock","mock_info":{"status_code":99}}`), "plugin_content.downgrade_default.mock_info.status_code"},
		{"mock bad header", brk(condOK, `"downgrade_default":{"type":"mock","mock_info":{"headers":[{"key":"bad header","value":"1"}]}}`), "plugin_content.downgrade_default.mock_info.headers[0].key"},
		{"mock gateway header", brk(condOK, `"downgrade_default":{"type":"mock","mock_info":{"headers":[{"key":"X-Apig-Latency","value":"1"}]}}`), "plugin_content.downgrade_default.mock_info.headers[0].key"},
		{"mock header CR", brk(condOK, `"downgrade_default":{"type":"mock","mock_info":{"headers":[{"key":"X-A","value":"a\rb"}]}}`), "plugin_content.downgrade_default.mock_info.headers[0].value"},
		{"mock eleven headers", brk(condOK, `"downgrade_default":{"type":"mock","mock_info":{"headers":[`+strings.TrimSuffix(strings.Repeat(`{"key":"X-A","value":"1"},`, 11), ",")+`]}}`), "plugin_content.downgrade_default.mock_info.headers"},
		{"rules", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r1","parameters":["reqPath","method"],"match_regex":"[\"AND\",[\"reqPath\",\"==\",\"/test\"],[\"method\",\"in\",\"GET,PUT\"]]",`+
			`"breaker_condition":{"breaker_type":"timeout","unhealthy_threshold":1,"time_window":5,"open_breaker_time":5},"downgrade_backend":{"type":"mock","mock_info":{"status_code":200}}},`+
			`{"rule_name":"r2","parameters":[{"name":"tier","type":"header","value":"X-Tier"}],"match_regex":"[\"tier\",\"==\",\"gold\"]"},`+
			`{"rule_name":"r3","match_regex":"[\"OR\",[\"srv\",\"==\",\"gw-1\"],[\"q\",\"~~\",\"^a\"]]"}]`), ""},
		{"parameter bad type", brk(condOK, `"downgrade_parameters":[{"name":"p","type":"cookie","value":"c"}]`), "plugin_content.downgrade_parameters[0].type"},
		{"parameter bad name", brk(condOK, `"downgrade_parameters":[{"name":"1p","type":"path","value":"path"}]`), "plugin_content.downgrade_parameters[0].name"},
		{"parameter twice", brk(condOK, `"downgrade_parameters":[{"name":"p","type":"path","value":"path"},{"name":"p","type":"method","value":"method"}]`), "plugin_content.downgrade_parameters[1].name"},
		{"parameter bad header", brk(condOK, `"downgrade_parameters":[{"name":"h","type":"header","value":"a b"}]`), "plugin_content.downgrade_parameters[0].value"},
		{"parameter unknown system", brk(condOK, `"downgrade_parameters":[{"name":"s","type":"system","value":"$context.cacheStatus"}]`), "plugin_content.downgrade_parameters[0].value"},
		{"rule without name", brk(condOK, params+`,"downgrade_rules":[{"match_regex":"[\"reqPath\",\"==\",\"/a\"]"}]`), "plugin_content.downgrade_rules[0].rule_name"},
		{"rule names twice", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","match_regex":"[\"reqPath\",\"==\",\"/a\"]"},{"rule_name":"r","match_regex":"[\"reqPath\",\"==\",\"/b\"]"}]`), "plugin_content.downgrade_rules[1].rule_name"},
		{"rule without expression", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r"}]`), "plugin_content.downgrade_rules[0].match_regex"},
		{"rule bad expression", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","match_regex":"[\"reqPath\",\"=~\",\"/a\"]"}]`), "plugin_content.downgrade_rules[0].match_regex"},
		{"rule unknown parameter", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","match_regex":"[\"host\",\"==\",\"a\"]"}]`), "plugin_content.downgrade_rules[0].match_regex"},
		{"rule parameter not listed", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","parameters":["method"],"match_regex":"[\"reqPath\",\"==\",\"/a\"]"}]`), "plugin_content.downgrade_rules[0].match_regex"},
		{"rule parameter undefined", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","parameters":["nope"],"match_regex":"[\"reqPath\",\"==\",\"/a\"]"}]`), "plugin_content.downgrade_rules[0].parameters[0]"},
		{"rule own parameter invalid", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","parameters":[{"name":"x","type":"cookie","value":"c"}],"match_regex":"[\"x\",\"==\",\"/a\"]"}]`), "plugin_content.downgrade_rules[0].parameters[0].type"},
		{"rule bad condition", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","match_regex":"[\"reqPath\",\"==\",\"/a\"]","breaker_condition":{"breaker_type":"timeout","time_window":5,"open_breaker_time":5}}]`), "plugin_content.downgrade_rules[0].breaker_condition.unhealthy_threshold"},
		{"rule http downgrade", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","match_regex":"[\"reqPath\",\"==\",\"/a\"]","downgrade_backend":{"type":"http"}}]`), "plugin_content.downgrade_rules[0].downgrade_backend.http_info"},
		{"rule passthrough", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","match_regex":"[\"reqPath\",\"==\",\"/a\"]","downgrade_backend":{"type":"passthrough"}}]`), ""},
		{"rule named default", brk(condOK, `"downgrade_default":{"type":"http","http_info":{"address":"a.example.com","scheme":"HTTP","method":"GET","path":"/a"}},`+params+`,"downgrade_rules":[{"rule_name":"default","match_regex":"[\"reqPath\",\"==\",\"/a\"]","downgrade_backend":{"type":"func","func_info":{"function_urn":"urn:fss:r:p:function:default:f"}}}]`), "plugin_content.downgrade_rules[0].rule_name"},
		{"rule named default, mock default", brk(condOK, mockOK+`,`+params+`,"downgrade_rules":[{"rule_name":"default","match_regex":"[\"reqPath\",\"==\",\"/a\"]","downgrade_backend":{"type":"func","func_info":{"function_urn":"urn:fss:r:p:function:default:f"}}}]`), ""},
		{"rule passthrough bad header", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","match_regex":"[\"reqPath\",\"==\",\"/a\"]","downgrade_backend":{"type":"passthrough","passthrough_infos":[{"key":"a b","value":"1"}]}}]`), "plugin_content.downgrade_rules[0].downgrade_backend.passthrough_infos[0].key"},
		{"rule func without urn", brk(condOK, params+`,"downgrade_rules":[{"rule_name":"r","match_regex":"[\"reqPath\",\"==\",\"/a\"]","downgrade_backend":{"type":"func","func_info":{}}}]`), "plugin_content.downgrade_rules[0].downgrade_backend.func_info.function_urn"},
		{"unknown field", brk(condOK, `"breaker":true`), "plugin_content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := model.Validate(plugin("p1", model.PluginBreaker, tc.content), lim)
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

// APIG's own example content (a timeout breaker with a mock rule and an
// HTTP default downgrade) is accepted as it is.
func TestBreakerHuaweiExampleAccepted(t *testing.T) {
	content := `{"scope":"share","breaker_condition":{"breaker_type":"timeout","breaker_mode":"counter","unhealthy_condition":"","unhealthy_threshold":30,"min_call_threshold":20,"unhealthy_percentage":51,"time_window":15,"open_breaker_time":15},` +
		`"downgrade_default":{"type":"http","http_info":{"isVpc":false,"vpc_channel_id":"","address":"10.10.10.10","scheme":"HTTP","method":"GET","path":"/demo","timeout":5000},"mock_info":null,"func_info":null,"http_vpc_info":null,"passthrough_infos":null},` +
		`"downgrade_parameters":[{"name":"reqPath","type":"path","value":"path"},{"name":"method","type":"method","value":"method"}],` +
		`"downgrade_rules":[{"rule_name":"rule-test1","parameters":["reqPath","method"],"match_regex":"[\"reqPath\",\"==\",\"/test\"]","downgrade_backend":{"type":"mock","mock_info":{"status_code":200,"result_content":"{status: ok}","headers":[]}},` +
		`"breaker_condition":{"breaker_type":"timeout","breaker_mode":"percentage","unhealthy_threshold":30,"time_window":15,"open_breaker_time":15,"unhealthy_percentage":51,"min_call_threshold":20}}]}`
	p := plugin("p1", model.PluginBreaker, content)
	if vs := model.Validate(p, model.AbsoluteLimits()); len(vs) > 0 {
		t.Fatalf("APIG's example: %s", fieldsOf(vs))
	}
	// Its HTTP downgrade becomes a policy backend without conditions.
	pols := model.BreakerHTTPPolicies(model.BreakerContentOf(p), nil)
	if len(pols) != 1 || pols[0].Name != "breaker:default" || pols[0].UrlDomain != "10.10.10.10" || pols[0].ReqUri != "/demo" ||
		pols[0].ReqMethod != "GET" || pols[0].ReqProtocol != "HTTP" || pols[0].Timeout != 5000 || len(pols[0].Conditions) != 0 {
		t.Fatalf("downgrade policies %v", pols)
	}
}

// A breaker protects a backend: it cannot be bound to a mock API, and an
// API with one cannot become a mock.
func TestBreakerBindingNeedsABackend(t *testing.T) {
	p := plugin("brk1", model.PluginBreaker, brk(condOK, mockOK))
	onMock := &apigwv1.PluginBinding{Id: "b1", ApiId: "a3", EnvId: "e1", PluginId: "brk1"}
	in := pluginWorld(p, onMock)
	vs := in.Check(onMock)
	if len(vs) == 0 || vs[0].Field != "api_id" {
		t.Fatalf("binding to a mock API: want api_id, got %v", vs)
	}
	ok := &apigwv1.PluginBinding{Id: "b2", ApiId: "a2", EnvId: "e1", PluginId: "brk1"}
	in = pluginWorld(p, ok)
	if vs := in.Check(ok); len(vs) > 0 {
		t.Fatalf("binding to an HTTP API: %v", vs)
	}
	api := in.API("a2")
	mock := &apigwv1.Api{Id: api.Id, Name: api.Name, GroupId: api.GroupId, ReqMethod: api.ReqMethod, ReqUri: api.ReqUri,
		BackendType: model.BackendMock, MockInfo: &apigwv1.MockInfo{StatusCode: 200}}
	model.Normalize(mock)
	found := false
	for _, v := range in.Check(mock) {
		found = found || v.Field == "backend_type"
	}
	if !found {
		t.Fatalf("an API with a breaker became a mock without a backend_type violation")
	}
}

// An http downgrade's timeout is bounded by the instance's backend
// timeout ceiling, as an API backend's is.
func TestBreakerHTTPTimeoutBoundedByInstance(t *testing.T) {
	content := brk(condOK, `"downgrade_default":{"type":"http","http_info":{"address":"a.example.com","scheme":"HTTPS","method":"GET","path":"/demo","timeout":70000}}`)
	lim := model.AbsoluteLimits()
	if vs := model.Validate(plugin("p1", model.PluginBreaker, content), lim); len(vs) > 0 {
		t.Fatalf("70 s under the absolute ceiling: %s", fieldsOf(vs))
	}
	lim.MaxTimeout = 60000
	vs := model.Validate(plugin("p1", model.PluginBreaker, content), lim)
	if len(vs) != 1 || vs[0].Field != "plugin_content.downgrade_default.http_info.timeout" {
		t.Fatalf("70 s over a 60 s ceiling: %s", fieldsOf(vs))
	}
}

// An http_vpc downgrade names an existing channel (by id) and a func
// downgrade a function of the instance's registry; the channel cannot be
// deleted and the function not dropped from the registry while a breaker
// downgrades to them.
func TestBreakerDowngradeReferences(t *testing.T) {
	const urn = "urn:fss:r:p:function:default:fallback"
	def := &apigwv1.Instance{Name: "default", Config: &apigwv1.InstanceConfig{Functions: []*apigwv1.FunctionTarget{{Urn: urn, Url: "http://127.0.0.1:9/fn"}}}}
	ch := &apigwv1.VpcChannel{Id: "ch1", Name: "fallback_pool", Port: 80, Type: "builtin"}
	for _, tc := range []struct {
		name, downgrade, want string
	}{
		{"channel", `{"type":"http_vpc","http_vpc_info":{"vpc_channel_id":"ch1","scheme":"HTTP","method":"GET","path":"/x"}}`, ""},
		{"isVpc channel", `{"type":"http","http_info":{"isVpc":true,"vpc_channel_id":"ch1","scheme":"HTTP","method":"GET","path":"/x"}}`, ""},
		{"missing channel", `{"type":"http_vpc","http_vpc_info":{"vpc_channel_id":"ch9","scheme":"HTTP","method":"GET","path":"/x"}}`, "plugin_content.downgrade_default.http_vpc_info.vpc_channel_id"},
		{"channel by name", `{"type":"http","http_info":{"isVpc":true,"vpc_channel_id":"fallback_pool","scheme":"HTTP","method":"GET","path":"/x"}}`, "plugin_content.downgrade_default.http_info.vpc_channel_id"},
		{"function", `{"type":"func","func_info":{"function_urn":"` + urn + `"}}`, ""},
		{"unknown function", `{"type":"function","func_info":{"function_urn":"urn:fss:r:p:function:default:other"}}`, "plugin_content.downgrade_default.func_info.function_urn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plugin("brk1", model.PluginBreaker, brk(condOK, `"downgrade_default":`+tc.downgrade))
			if vs := model.Validate(p, model.AbsoluteLimits()); len(vs) > 0 {
				t.Fatalf("content: %s", fieldsOf(vs))
			}
			in := model.NewInstance("default", []proto.Message{def, ch, p})
			vs := in.Check(p)
			if tc.want == "" {
				if len(vs) > 0 {
					t.Fatalf("unexpected violations:\n%s", fieldsOf(vs))
				}
				return
			}
			if len(vs) != 1 || vs[0].Field != tc.want {
				t.Fatalf("want a violation of %s, got:\n%s", tc.want, fieldsOf(vs))
			}
		})
	}
	p := plugin("brk1", model.PluginBreaker, brk(condOK, `"downgrade_rules":[{"rule_name":"r","match_regex":"[\"m\",\"==\",\"GET\"]","parameters":[{"name":"m","type":"method","value":"method"}],"downgrade_backend":{"type":"http_vpc","http_vpc_info":{"vpc_channel_id":"ch1","scheme":"HTTP","method":"GET","path":"/x"}}}],"downgrade_default":{"type":"func","func_info":{"function_urn":"`+urn+`"}}`))
	in := model.NewInstance("default", []proto.Message{def, ch, p})
	e := in.Edit()
	e.Delete(model.KindVpcChannel, "ch1")
	refs := e.Done().Referrers(model.KindVpcChannel, "ch1")
	if len(refs) != 1 || refs[0].ID != "brk1" || refs[0].Field != "plugin_content.downgrade_rules[0].downgrade_backend.http_vpc_info.vpc_channel_id" {
		t.Fatalf("deleting the downgrade's channel: referrers %v", refs)
	}
	if refs := in.Referrers(model.KindVpcChannel, "ch1"); len(refs) != 0 {
		t.Fatalf("an existing channel: referrers %v", refs)
	}
	noFn := &apigwv1.Instance{Name: "default", Config: &apigwv1.InstanceConfig{}}
	vs := in.Check(noFn)
	if len(vs) == 0 || vs[0].Field != "config.functions" || !strings.Contains(vs[0].String(), "brk1") {
		t.Fatalf("dropping the downgrade's function from the registry: %s", fieldsOf(vs))
	}
}
