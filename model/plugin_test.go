package model_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func plugin(id, typ, content string) *apigwv1.Plugin {
	p := &apigwv1.Plugin{Id: id, PluginName: "plugin_" + id, PluginType: typ, PluginContent: content}
	model.Normalize(p)
	return p
}

// fieldsOf returns the violated field paths with their descriptions.
func fieldsOf(vs model.Violations) string {
	var out []string
	for _, v := range vs {
		out = append(out, v.String())
	}
	return strings.Join(out, "\n")
}

func TestPluginContentValidation(t *testing.T) {
	lim := model.AbsoluteLimits()
	for _, tc := range []struct {
		name, typ, content string
		want               string // a violated field path; "" = valid
	}{
		{"cors ok", "cors", `{"allow_origin":"*","allow_methods":"GET,POST","allow_headers":"Content-Type","expose_headers":"X-Request-Id","max_age":86400,"allow_credentials":false}`, ""},
		{"cors origins list", "cors", `{"allow_origin":"https://a.example.com, http://b.example.com:8080","allow_methods":"GET","allow_credentials":true}`, ""},
		{"cors star with credentials", "cors", `{"allow_origin":"*","allow_methods":"GET","allow_credentials":true}`, "plugin_content.allow_origin"},
		{"cors bad origin", "cors", `{"allow_origin":"example.com","allow_methods":"GET"}`, "plugin_content.allow_origin"},
		{"cors bad method", "cors", `{"allow_origin":"*","allow_methods":"GET,FETCH"}`, "plugin_content.allow_methods"},
		{"cors unknown field", "cors", `{"allow_origin":"*","allow_methods":"GET","allow_origins":"*"}`, "plugin_content"},
		{"cors wrong type", "cors", `{"allow_origin":"*","allow_methods":"GET","max_age":"a day"}`, "plugin_content"},
		{"cors not json", "cors", `allow_origin=*`, "plugin_content"},
		{"headers ok", "set_resp_headers", `{"response_headers":[{"name":"X-Custom","value":"v","action":"override"},{"name":"x-b","value":"$context.requestId","value_type":"system_parameter","action":"APPEND"},{"name":"x-c","action":"delete"}]}`, ""},
		{"headers bad action", "set_resp_headers", `{"response_headers":[{"name":"X-Custom","value":"v","action":"replace"}]}`, "plugin_content.response_headers[0].action"},
		{"headers gateway header", "set_resp_headers", `{"response_headers":[{"name":"X-Apig-Latency","value":"v","action":"override"}]}`, "plugin_content.response_headers[0].name"},
		{"headers request id", "set_resp_headers", `{"response_headers":[{"name":"X-Request-Id","value":"v","action":"override"}]}`, "plugin_content.response_headers[0].name"},
		{"headers cors header", "set_resp_headers", `{"response_headers":[{"name":"Access-Control-Allow-Origin","value":"*","action":"override"}]}`, "plugin_content.response_headers[0].name"},
		{"headers duplicate", "set_resp_headers", `{"response_headers":[{"name":"X-A","value":"1","action":"add"},{"name":"x-a","value":"2","action":"add"}]}`, "plugin_content.response_headers[1].name"},
		{"headers system with override", "set_resp_headers", `{"response_headers":[{"name":"X-A","value":"$context.requestId","value_type":"system_parameter","action":"override"}]}`, "plugin_content.response_headers[0].action"},
		{"headers unknown system value", "set_resp_headers", `{"response_headers":[{"name":"X-A","value":"$context.handleTime","value_type":"system_parameter","action":"add"}]}`, "plugin_content.response_headers[0].value"},
		{"headers cache status", "set_resp_headers", `{"response_headers":[{"name":"X-Cache","value":"$context.cacheStatus","value_type":"system_parameter","action":"add"}]}`, ""},
		{"headers name too long", "set_resp_headers", `{"response_headers":[{"name":"X-` + strings.Repeat("a", 31) + `","value":"1","action":"add"}]}`, "plugin_content.response_headers[0].name"},
		{"headers value with CR", "set_resp_headers", `{"response_headers":[{"name":"X-A","value":"a\rb","action":"add"}]}`, "plugin_content.response_headers[0].value"},
		{"headers eleven", "set_resp_headers", `{"response_headers":[` + strings.TrimSuffix(strings.Repeat(`{"name":"X-A","value":"1","action":"add"},`, 11), ",") + `]}`, "plugin_content.response_headers"},
		{"mirror ok", "proxy_mirror", `{"protocol":"HTTPS","host":"mirror.example.com:7443","sample_ratio":0.5,"timeout":3000,"mirror_request_body_enabled":true,"path":"","path_concat_mode":"replace"}`, ""},
		{"mirror ratio", "proxy_mirror", `{"protocol":"HTTP","host":"10.0.0.1","sample_ratio":0}`, "plugin_content.sample_ratio"},
		{"mirror path refused", "proxy_mirror", `{"protocol":"HTTP","host":"10.0.0.1","path":"/ab"}`, "plugin_content.path"},
		{"mirror body refused", "proxy_mirror", `{"protocol":"HTTP","host":"10.0.0.1","mirror_request_body_enabled":false}`, "plugin_content.mirror_request_body_enabled"},
		{"mirror protocol", "proxy_mirror", `{"protocol":"GRPC","host":"10.0.0.1"}`, "plugin_content.protocol"},
		{"jwt inline ok", "jwt_auth", `{"jwks":"{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}","token_location":"header","token_name":"X-Token","token_prefix":"","token_expiration_tolerance":"30","token_pass_through_enabled":true,"issuer":"https://idp","audiences":["a"],"carry_payload":{"claims":[{"claim":"sub","header":"X-User"}]}}`, ""},
		{"jwt service ok", "jwt_auth", `{"jwks_service":{"url":"https://idp.example.com/jwks"},"token_location":"QUERY"}`, ""},
		{"jwt no keys", "jwt_auth", `{"issuer":"https://idp"}`, "plugin_content.jwks"},
		{"jwt bad jwks", "jwt_auth", `{"jwks":"{\"keys\":[]}"}`, "plugin_content.jwks"},
		{"jwt service without url", "jwt_auth", `{"jwks_service":{}}`, "plugin_content.jwks_service.url"},
		{"jwt service not http", "jwt_auth", `{"jwks_service":{"url":"file:///etc/jwks"}}`, "plugin_content.jwks_service.url"},
		{"jwt service unknown field", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks","uri":"x"}}`, "plugin_content"},
		{"jwt location", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks"},"token_location":"body"}`, "plugin_content.token_location"},
		{"jwt cookie needs name", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks"},"token_location":"cookie"}`, "plugin_content.token_name"},
		{"jwt prefix with query", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks"},"token_location":"query","token_prefix":"Bearer"}`, "plugin_content.token_prefix"},
		{"jwt tolerance range", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks"},"token_expiration_tolerance":"86401"}`, "plugin_content.token_expiration_tolerance"},
		{"jwt tolerance number", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks"},"token_expiration_tolerance":30}`, "plugin_content"},
		{"jwt empty audience", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks"},"audiences":[""]}`, "plugin_content.audiences[0]"},
		{"jwt claim header reserved", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks"},"carry_payload":{"claims":[{"claim":"sub","header":"X-Apig-User"}]}}`, "plugin_content.carry_payload.claims[0].header"},
		{"jwt claim header is the token", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks"},"carry_payload":{"claims":[{"claim":"sub","header":"authorization"}]}}`, "plugin_content.carry_payload.claims[0].header"},
		{"jwt claim header twice", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks"},"carry_payload":{"claims":[{"claim":"sub","header":"X-U"},{"claim":"iss","header":"x-u"}]}}`, "plugin_content.carry_payload.claims[1].header"},
		{"jwt claim required", "jwt_auth", `{"jwks_service":{"url":"https://idp/jwks"},"carry_payload":{"claims":[{"header":"X-U"}]}}`, "plugin_content.carry_payload.claims[0].claim"},
		{"third ok (Terraform's document)", "third_auth", `{"auth_downgrade_enabled":true,"auth_request":{"method":"POST","protocol":"HTTPS","url_domain":"tftest.example.com","path":"/test","timeout":5005,"vpc_channel_enabled":false,"vpc_channel_info":null},"identities":{"headers":[{"name":"X-Custom-Token"}],"queries":[{"name":"user_name"}]},"carry_body":{"enabled":false,"max_body_size":1000},"carry_path_enabled":true,"return_resp_body_enabled":false,"carry_resp_headers":[],"simple_auth_mode_enabled":true,"match_auth":null,"parameters":null,"rules":null,"rule_type":"allow","rule_enabled":false,"custom_forbid_limit":90}`, ""},
		{"third ok reference spelling", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"carry_resp_header":["X-User"]}`, ""},
		{"third no request", "third_auth", `{"custom_forbid_limit":5}`, "plugin_content.auth_request"},
		{"third method", "third_auth", `{"auth_request":{"method":"DELETE","protocol":"HTTP","url_domain":"a.example.com"}}`, "plugin_content.auth_request.method"},
		{"third protocol", "third_auth", `{"auth_request":{"method":"GET","protocol":"FTP","url_domain":"a.example.com"}}`, "plugin_content.auth_request.protocol"},
		{"third host", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTP","url_domain":"a b"}}`, "plugin_content.auth_request.url_domain"},
		{"third path", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTP","url_domain":"a.example.com","path":"check?x=1"}}`, "plugin_content.auth_request.path"},
		{"third timeout", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTP","url_domain":"a.example.com","timeout":60001}}`, "plugin_content.auth_request.timeout"},
		{"third vpc channel without id", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTP","vpc_channel_enabled":true}}`, "plugin_content.auth_request.vpc_channel_info.vpc_id"},
		{"third vpc channel ok (Terraform's document)", "third_auth", `{"auth_request":{"method":"GET","path":"/test","protocol":"HTTPS","timeout":5000,"url_domain":"","vpc_channel_enabled":true,"vpc_channel_info":{"vpc_id":"c1","vpc_proxy_host":"test"}}}`, ""},
		{"third vpc channel with url_domain", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTP","url_domain":"a.example.com","vpc_channel_enabled":true,"vpc_channel_info":{"vpc_id":"c1"}}}`, "plugin_content.auth_request.url_domain"},
		{"third vpc proxy host", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTP","vpc_channel_enabled":true,"vpc_channel_info":{"vpc_id":"c1","vpc_proxy_host":"a b"}}}`, "plugin_content.auth_request.vpc_channel_info.vpc_proxy_host"},
		{"third vpc info without channel", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTP","url_domain":"a.example.com","vpc_channel_info":{"vpc_id":"c1"}}}`, "plugin_content.auth_request.vpc_channel_info"},
		{"third no url_domain", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTP"}}`, "plugin_content.auth_request.url_domain"},
		{"third carry body", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"carry_body":{"enabled":true,"max_body_size":10}}`, ""},
		{"third carry body without size", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"carry_body":{"enabled":true}}`, "plugin_content.carry_body.max_body_size"},
		{"third carry body too large", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"carry_body":{"enabled":true,"max_body_size":12582913}}`, "plugin_content.carry_body.max_body_size"},
		{"third carry body off negative", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"carry_body":{"enabled":false,"max_body_size":-1}}`, "plugin_content.carry_body.max_body_size"},
		{"third match mode without match_auth", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"simple_auth_mode_enabled":false}`, "plugin_content.match_auth"},
		{"third match ok (APIG's document)", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"simple_auth_mode_enabled":false,"match_auth":{"key":"x-message-result","value":"success"}}`, ""},
		{"third match key", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"simple_auth_mode_enabled":false,"match_auth":{"key":"x message","value":"success"}}`, "plugin_content.match_auth.key"},
		{"third match no key", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"simple_auth_mode_enabled":false,"match_auth":{"value":"success"}}`, "plugin_content.match_auth.key"},
		{"third match no value", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"simple_auth_mode_enabled":false,"match_auth":{"key":"X-R"}}`, "plugin_content.match_auth.value"},
		{"third match value control", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"simple_auth_mode_enabled":false,"match_auth":{"key":"X-R","value":"a\r\nb"}}`, "plugin_content.match_auth.value"},
		{"third match_auth in simple mode", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"match_auth":{"key":"X-R","value":"ok"}}`, "plugin_content.match_auth"},
		{"third match_auth unknown field", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"match_auth":{"headers":[]}}`, "plugin_content"},
		{"third rules ok (APIG's document)", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"rule_enabled":true,"rule_type":"deny","parameters":[{"value":"reqPath","type":"path","name":"reqPath"},{"value":"method","type":"method","name":"method"},{"value":"Host","type":"header","name":"Host"}],"rules":[{"match_regex":"[\"OR\", [\"reqPath\", \"~~\", \"/xxl-job-admin/*\"], [\"reqPath\", \"==\", \"/app/leave\"]]","rule_name":"allow2"}]}`, ""},
		{"third rules on without rules", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"rule_enabled":true,"rule_type":"allow"}`, "plugin_content.rules"},
		{"third rules on without type", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"rule_enabled":true,"parameters":[{"name":"m","type":"method"}],"rules":[{"rule_name":"r1","match_regex":"[\"m\",\"==\",\"GET\"]"}]}`, "plugin_content.rule_type"},
		{"third rules off with rules", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"rules":[{"rule_name":"r1","match_regex":"[\"m\",\"==\",\"GET\"]"}]}`, "plugin_content.rules"},
		{"third rules off with parameters", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"parameters":[{"name":"m","type":"method"}]}`, "plugin_content.parameters"},
		{"third rule unknown parameter", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"rule_enabled":true,"rule_type":"allow","parameters":[{"name":"m","type":"method"}],"rules":[{"rule_name":"r1","match_regex":"[\"x\",\"==\",\"GET\"]"}]}`, "plugin_content.rules[0].match_regex[0]"},
		{"third rule name twice", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"rule_enabled":true,"rule_type":"allow","parameters":[{"name":"m","type":"method"}],"rules":[{"rule_name":"r1","match_regex":"[\"m\",\"==\",\"GET\"]"},{"rule_name":"r1","match_regex":"[\"m\",\"==\",\"PUT\"]"}]}`, "plugin_content.rules[1].rule_name"},
		{"third rule parameter type", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"rule_enabled":true,"rule_type":"allow","parameters":[{"name":"m","type":"cookie","value":"a"}],"rules":[{"rule_name":"r1","match_regex":"[\"m\",\"==\",\"GET\"]"}]}`, "plugin_content.parameters[0].type"},
		{"third rule type", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"rule_type":"block"}`, "plugin_content.rule_type"},
		{"third eleven identities", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"identities":{"headers":[` + strings.TrimSuffix(strings.Repeat(`{"name":"X-A"},`, 11), ",") + `]}}`, "plugin_content.identities.headers"},
		{"third identity twice", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"identities":{"headers":[{"name":"X-A"},{"name":"x-a"}]}}`, "plugin_content.identities.headers[1].name"},
		{"third identity name", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"identities":{"queries":[{"name":"a&b"}]}}`, "plugin_content.identities.queries[0].name"},
		{"third both spellings", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"carry_resp_headers":["X-A"],"carry_resp_header":["X-B"]}`, "plugin_content.carry_resp_header"},
		{"third gateway header", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"carry_resp_headers":["X-Apig-Mode"]}`, "plugin_content.carry_resp_headers[0]"},
		{"third forbid limit", "third_auth", `{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":5000},"custom_forbid_limit":-1}`, "plugin_content.custom_forbid_limit"},
		{"mirror host", "proxy_mirror", `{"protocol":"HTTP","host":"bad host:99999"}`, "plugin_content.host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := model.Validate(plugin("p1", tc.typ, tc.content), lim)
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

// Plug-in types apigw does not implement are refused by name, never
// stored and ignored.
// Every APIG plug-in type is implemented; other names (case and spelling
// count) are refused.
func TestUnknownPluginTypesAreRefused(t *testing.T) {
	for _, typ := range []string{"bogus", "Cors", "rate-limit"} {
		vs := model.Validate(plugin("p1", typ, `{}`), model.AbsoluteLimits())
		if len(vs) == 0 || vs[0].Field != "plugin_type" {
			t.Errorf("%s: want a plugin_type violation, got %v", typ, vs)
		}
	}
}

func pluginWorld(extra ...proto.Message) *model.Instance {
	objs := sampleObjects()
	objs = append(objs,
		&apigwv1.Api{Id: "a2", Name: "put_pet", GroupId: "g1", ReqMethod: "PUT", ReqUri: "/pets/{pid}", BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/"}},
		&apigwv1.Api{Id: "a3", Name: "mock_pet", GroupId: "g1", ReqMethod: "GET", ReqUri: "/mock", BackendType: model.BackendMock, MockInfo: &apigwv1.MockInfo{StatusCode: 200}},
		plugin("cors1", "cors", `{"allow_origin":"*","allow_methods":"GET,PUT"}`),
		plugin("cors2", "cors", `{"allow_origin":"*","allow_methods":"GET,PUT"}`),
		plugin("corsget", "cors", `{"allow_origin":"*","allow_methods":"GET"}`),
		plugin("hdr1", "set_resp_headers", `{"response_headers":[{"name":"X-A","value":"1","action":"add"}]}`),
		plugin("hdr2", "set_resp_headers", `{"response_headers":[{"name":"X-B","value":"1","action":"add"}]}`),
		plugin("mir1", "proxy_mirror", `{"protocol":"HTTP","host":"10.0.0.9:8080"}`),
		plugin("rl1", "rate_limit", `{"api_limit":10}`),
	)
	objs = append(objs, extra...)
	return model.NewInstance("default", objs)
}

func TestPluginBindingRules(t *testing.T) {
	bind := func(id, api, plug string) *apigwv1.PluginBinding {
		return &apigwv1.PluginBinding{Id: id, ApiId: api, EnvId: "e1", PluginId: plug}
	}
	for _, tc := range []struct {
		name  string
		have  []proto.Message
		check *apigwv1.PluginBinding
		want  string // field; "" = allowed
	}{
		{"one cors", nil, bind("b1", "a1", "cors1"), ""},
		{"two of a type", []proto.Message{bind("b0", "a1", "hdr1")}, bind("b1", "a1", "hdr2"), "plugin_id"},
		{"two types", []proto.Message{bind("b0", "a1", "hdr1")}, bind("b1", "a1", "cors1"), ""},
		{"same path other cors", []proto.Message{bind("b0", "a1", "cors1")}, bind("b1", "a2", "cors2"), "plugin_id"},
		{"same path same cors", []proto.Message{bind("b0", "a1", "cors1")}, bind("b1", "a2", "cors1"), ""},
		{"method not allowed", nil, bind("b1", "a2", "corsget"), "plugin_id"},
		{"missing plug-in", nil, bind("b1", "a1", "nope"), "plugin_id"},
		{"mirror on mock", nil, bind("b1", "a3", "mir1"), "api_id"},
		{"mirror", nil, bind("b1", "a1", "mir1"), ""},
		{"rate_limit on mock", nil, bind("b1", "a3", "rl1"), "api_id"},
		{"rate_limit", nil, bind("b1", "a1", "rl1"), ""},
		{"rate_limit and a policy", []proto.Message{&apigwv1.Throttle{Id: "t1", Name: "tiered", ApiCallLimits: 5, TimeInterval: 1, TimeUnit: model.UnitMinute}, &apigwv1.ThrottleBinding{Id: "tb", ApiId: "a1", EnvId: "e1", StrategyId: "t1"}}, bind("b1", "a1", "rl1"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := pluginWorld(append(tc.have, tc.check)...)
			vs := in.Check(tc.check)
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

func TestCorsPluginRefusesAnOptionsAPIOnItsPath(t *testing.T) {
	opts := &apigwv1.Api{Id: "a9", Name: "options_pet", GroupId: "g1", ReqMethod: "OPTIONS", ReqUri: "/pets/{x}", BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/"}}
	b := &apigwv1.PluginBinding{Id: "b1", ApiId: "a1", EnvId: "e1", PluginId: "cors1"}
	in := pluginWorld(opts, b)
	if vs := in.Check(b); len(vs) == 0 || vs[0].Field != "api_id" {
		t.Errorf("binding: want an api_id violation, got %v", vs)
	}
	if vs := in.Check(opts); len(vs) == 0 || vs[0].Field != "req_method" {
		t.Errorf("OPTIONS API: want a req_method violation, got %v", vs)
	}
}

func TestPublicationCarriesBoundPlugins(t *testing.T) {
	in := pluginWorld(&apigwv1.PluginBinding{Id: "b1", ApiId: "a1", EnvId: "e1", PluginId: "hdr1"},
		&apigwv1.PluginBinding{Id: "b2", ApiId: "a1", EnvId: "e1", PluginId: "cors1"},
		&apigwv1.PluginBinding{Id: "b3", ApiId: "a1", EnvId: model.ReleaseEnvID, PluginId: "mir1"})
	pub, err := in.Publication("a1", "e1", "p1", "", "", testTime)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pub.Plugins {
		got = append(got, p.Id)
	}
	if strings.Join(got, ",") != "hdr1,cors1" {
		t.Errorf("publication plug-ins = %v, want hdr1,cors1 (bindings of e1 in binding order)", got)
	}
	if vs := model.Validate(pub, model.AbsoluteLimits()); len(vs) > 0 {
		t.Errorf("publication: %v", vs)
	}
}

// A plug-in or an API that changes after the binding is checked again:
// the plug-in's content and the API's method and backend must still fit.
func TestChangesToBoundPluginsAndAPIsAreChecked(t *testing.T) {
	in := pluginWorld(&apigwv1.PluginBinding{Id: "b1", ApiId: "a2", EnvId: "e1", PluginId: "cors1"},
		&apigwv1.PluginBinding{Id: "b2", ApiId: "a1", EnvId: "e1", PluginId: "mir1"})
	narrowed := plugin("cors1", "cors", `{"allow_origin":"*","allow_methods":"GET"}`)
	in2 := in.With([]proto.Message{narrowed}, nil)
	if vs := in2.Check(narrowed); len(vs) == 0 || vs[0].Field != "plugin_content" {
		t.Errorf("cors plug-in no longer allowing a bound API's PUT: want a plugin_content violation, got %v", vs)
	}
	api := proto.Clone(in.API("a2")).(*apigwv1.Api)
	api.ReqMethod = "DELETE"
	if vs := in.With([]proto.Message{api}, nil).Check(api); len(vs) == 0 || vs[0].Field != "req_method" {
		t.Errorf("API method outside the bound cors plug-in: want a req_method violation, got %v", vs)
	}
	mock := proto.Clone(in.API("a1")).(*apigwv1.Api)
	mock.BackendType, mock.BackendApi, mock.MockInfo = model.BackendMock, nil, &apigwv1.MockInfo{StatusCode: 200}
	if vs := in.With([]proto.Message{mock}, nil).Check(mock); len(vs) == 0 || vs[0].Field != "backend_type" {
		t.Errorf("mirrored API becoming a mock: want a backend_type violation, got %v", vs)
	}
	in3 := pluginWorld(&apigwv1.PluginBinding{Id: "b3", ApiId: "a1", EnvId: "e1", PluginId: "rl1"})
	if vs := in3.With([]proto.Message{mock}, nil).Check(mock); len(vs) == 0 || vs[0].Field != "backend_type" {
		t.Errorf("rate-limited API becoming a mock: want a backend_type violation, got %v", vs)
	}
}

// Any plug-in content is either refused with violations or decodes into
// the message of its type; validation never panics.
func FuzzPluginValidate(f *testing.F) {
	f.Add("cors", `{"allow_origin":"*","allow_methods":"GET","max_age":5}`)
	f.Add("set_resp_headers", `{"response_headers":[{"name":"X-A","value":"$context.requestId","value_type":"system_parameter","action":"append"}]}`)
	f.Add("proxy_mirror", `{"protocol":"HTTPS","host":"[::1]:8443","sample_ratio":0.5,"timeout":10}`)
	f.Add("oidc_auth", `{"client_id":"web","authorization_endpoint":"https://idp/a","token_endpoint":"https://[::1]:8443/t","redirect_uri":"https://api/cb","scope":"openid","pass_through_methods":["GET"]}`)
	f.Add("rate_limit", `{"api_limit":-1}`)
	f.Add("rate_limit", `{"api_limit":5,"user_limit":3,"parameters":[{"type":"method","name":"m"}],"rules":[{"rule_name":"r","match_regex":"[\"m\",\"in\",\"GET,PUT\"]","limit":1}]}`)
	f.Fuzz(func(t *testing.T, typ, content string) {
		p := plugin("p1", typ, content)
		if typ == model.PluginOIDCAuth {
			p.ClientSecret = "s"
		}
		vs := model.Validate(p, model.AbsoluteLimits())
		if len(vs) > 0 {
			return
		}
		if _, err := model.PluginContent(p); err != nil {
			t.Fatalf("valid plug-in %s %q does not decode: %v", typ, content, err)
		}
		if typ == model.PluginRateLimit {
			if _, err := model.CompileRateLimit(p); err != nil {
				t.Fatalf("valid rate_limit plug-in %q does not compile: %v", content, err)
			}
		}
	})
}

// An API whose bound plug-in or plug-in binding cannot be read from etcd
// is held closed (Blocked), never served without the plug-in.
func TestUnreadablePluginHoldsTheAPIClosed(t *testing.T) {
	bind := &apigwv1.PluginBinding{Id: "b1", ApiId: "a1", EnvId: "e1", PluginId: "hdr1"}
	in := pluginWorld(bind)
	if why := in.Blocked("a1", "e1"); why != "" {
		t.Fatalf("readable plug-in: blocked: %s", why)
	}
	var objs []proto.Message
	for _, k := range model.Kinds() {
		for _, o := range in.Objects(k.Name) {
			if k.Name != model.KindPlugin || model.IDOf(o) != "hdr1" {
				objs = append(objs, o)
			}
		}
	}
	broken := model.NewInstanceWith("default", objs, []model.Placeholder{{Kind: model.KindPlugin, ID: "hdr1", Reason: "bad value"}})
	if why := broken.Blocked("a1", "e1"); !strings.Contains(why, "plug-in hdr1") {
		t.Errorf("unreadable plug-in: Blocked = %q", why)
	}
	if why := broken.Blocked("a1", model.ReleaseEnvID); why != "" {
		t.Errorf("another environment is held closed too: %s", why)
	}
	fixed := broken.With([]proto.Message{plugin("hdr1", "set_resp_headers", `{"response_headers":[{"name":"X-A","value":"1","action":"add"}]}`)}, nil)
	if why := fixed.Blocked("a1", "e1"); why != "" {
		t.Errorf("plug-in readable again: still blocked: %s", why)
	}
	objs = objs[:0]
	for _, k := range model.Kinds() {
		for _, o := range in.Objects(k.Name) {
			if k.Name != model.KindPluginBinding {
				objs = append(objs, o)
			}
		}
	}
	unreadableBinding := model.NewInstanceWith("default", objs, []model.Placeholder{{Kind: model.KindPluginBinding, ID: "b1", Reason: "bad value", APIID: "a1", EnvID: "e1"}})
	if why := unreadableBinding.Blocked("a1", "e1"); !strings.Contains(why, "plugin_binding b1") {
		t.Errorf("unreadable plug-in binding: Blocked = %q", why)
	}
}

// A response set may customize JWT_AUTH_FAILURE, the response of jwt_auth
// plug-ins.
func TestJWTAuthFailureResponseType(t *testing.T) {
	gr := &apigwv1.GatewayResponse{Id: "r1", GroupId: "g1", Name: "jwt", Responses: map[string]*apigwv1.ResponseInfo{
		"JWT_AUTH_FAILURE": {Status: 403}}}
	model.Normalize(gr)
	if vs := model.Validate(gr, model.AbsoluteLimits()); len(vs) > 0 {
		t.Fatalf("JWT_AUTH_FAILURE refused: %s", fieldsOf(vs))
	}
	gr.Responses["JWT_AUTH_FAILED"] = &apigwv1.ResponseInfo{Status: 403}
	if vs := model.Validate(gr, model.AbsoluteLimits()); len(vs) == 0 {
		t.Fatal("an unknown response type was accepted")
	}
}

// A third_auth plug-in calling its service through a load balance channel
// names an existing channel (by id).
func TestThirdAuthChannelMustExist(t *testing.T) {
	content := `{"auth_request":{"method":"GET","protocol":"HTTP","vpc_channel_enabled":true,"vpc_channel_info":{"vpc_id":"ch1"}}}`
	p := plugin("th1", "third_auth", content)
	in := pluginWorld(p)
	vs := in.Check(p)
	if len(vs) != 1 || vs[0].Field != "plugin_content.auth_request.vpc_channel_info.vpc_id" {
		t.Fatalf("missing channel: got %v", vs)
	}
	ch := &apigwv1.VpcChannel{Id: "ch1", Name: "auth_nodes", Port: 8080, Members: []*apigwv1.Member{{Host: "10.0.0.7", Weight: 1}}}
	in = pluginWorld(ch, p)
	if vs := in.Check(p); len(vs) > 0 {
		t.Fatalf("existing channel: %v", vs)
	}
	// Or its name.
	byName := plugin("th1", "third_auth", strings.Replace(content, `"ch1"`, `"auth_nodes"`, 1))
	in = pluginWorld(ch, byName)
	if vs := in.Check(byName); len(vs) > 0 {
		t.Fatalf("channel by name: %v", vs)
	}
}

func TestChannelTargets(t *testing.T) {
	ch := &apigwv1.VpcChannel{Port: 80,
		MemberGroups: []*apigwv1.MemberGroup{{MemberGroupName: "g", MemberGroupWeight: 7}},
		Members: []*apigwv1.Member{
			{Host: "10.0.0.1", Weight: 3, Port: 8080},
			{Host: "10.0.0.2", MemberGroupName: "g"},
			{Host: "10.0.0.3", Weight: 5, Status: 2},
			{Host: "10.0.0.4"},
			{Host: "10.0.0.5", Weight: 1, IsBackup: true},
		}}
	primary, backup := model.ChannelTargets(ch, "")
	want := []model.ChannelTarget{{Host: "10.0.0.1", Port: 8080, Weight: 3}, {Host: "10.0.0.2", Port: 80, Weight: 7}}
	if !slices.Equal(primary, want) || !slices.Equal(backup, []model.ChannelTarget{{Host: "10.0.0.5", Port: 80, Weight: 1}}) {
		t.Errorf("targets: %v / %v", primary, backup)
	}
	// A member group keeps only its members.
	primary, backup = model.ChannelTargets(ch, "g")
	if !slices.Equal(primary, []model.ChannelTarget{{Host: "10.0.0.2", Port: 80, Weight: 7}}) || len(backup) != 0 {
		t.Errorf("group g targets: %v / %v", primary, backup)
	}
}
