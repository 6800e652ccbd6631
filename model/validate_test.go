package model_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func validAPI() *apigwv1.Api {
	return &apigwv1.Api{Name: "get_pet", GroupId: "g1", ReqMethod: "GET", ReqUri: "/pets/{id}",
		ReqParams:  []*apigwv1.ReqParam{{Name: "q", Location: "QUERY"}, {Name: "X-Trace", Location: "HEADER"}},
		BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:8080", ReqUri: "/v1/pets/{id}"}}
}

type rule struct {
	name  string
	obj   proto.Message
	field string
	desc  string // substring of the description
}

func run(t *testing.T, rules []rule) {
	t.Helper()
	lim := model.InstanceLimits(model.EffectiveConfig(&apigwv1.Instance{}))
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			model.Normalize(r.obj)
			vs := model.Validate(r.obj, lim)
			for _, v := range vs {
				if v.Field == r.field && strings.Contains(v.Description, r.desc) {
					return
				}
			}
			t.Errorf("want a violation of %s containing %q, got %v", r.field, r.desc, vs)
		})
	}
}

func TestValidObjectsPass(t *testing.T) {
	lim := model.InstanceLimits(model.EffectiveConfig(&apigwv1.Instance{}))
	objs := []proto.Message{
		validAPI(), validChannel(), validThrottle(), validGroup(), validAuthorizer(),
		&apigwv1.Environment{Name: "TEST"},
		&apigwv1.EnvVariable{GroupId: "g", EnvId: "e", VariableName: "host", VariableValue: "10.0.0.1:80"},
		&apigwv1.Acl{AclName: "office", AclType: "PERMIT", EntityType: "IP", AclValue: "10.0.0.1,10.1.0.0/16,10.2.0.1-10.2.0.9"},
		&apigwv1.App{Name: "mobile", AppKey: "key-000001", AppSecret: "secret-0001"},
		&apigwv1.AppQuota{Name: "monthly", CallLimits: 10, TimeUnit: "DAY", TimeInterval: 30, ResetTime: "2026-01-01 00:00:00"},
		&apigwv1.GatewayResponse{GroupId: "g", Name: "custom", Responses: map[string]*apigwv1.ResponseInfo{"THROTTLED": {Status: 503, Body: "{}"}}},
		&apigwv1.Instance{Name: "default"},
	}
	for _, o := range objs {
		model.Normalize(o)
		if vs := model.Validate(o, lim); len(vs) > 0 {
			t.Errorf("%T: %v", o, vs)
		}
	}
}

func apiWith(f func(a *apigwv1.Api)) *apigwv1.Api { a := validAPI(); f(a); return a }

func TestAPIRules(t *testing.T) {
	run(t, []rule{
		{"name too short", apiWith(func(a *apigwv1.Api) { a.Name = "ab" }), "name", "3-255"},
		{"name bad start", apiWith(func(a *apigwv1.Api) { a.Name = "_abc" }), "name", "starting"},
		{"group required", apiWith(func(a *apigwv1.Api) { a.GroupId = "" }), "group_id", "required"},
		{"type", apiWith(func(a *apigwv1.Api) { a.Type = 3 }), "type", "one of"},
		{"protocol", apiWith(func(a *apigwv1.Api) { a.ReqProtocol = "FTP" }), "req_protocol", "one of"},
		{"method", apiWith(func(a *apigwv1.Api) { a.ReqMethod = "FETCH" }), "req_method", "one of"},
		{"path must start with slash", apiWith(func(a *apigwv1.Api) { a.ReqUri = "pets" }), "req_uri", "start with /"},
		{"path too long", apiWith(func(a *apigwv1.Api) { a.ReqUri = "/" + strings.Repeat("a", 512) }), "req_uri", "512"},
		{"partial segment param", apiWith(func(a *apigwv1.Api) { a.ReqUri = "/users/prefix-{id}" }), "req_uri", "whole segment"},
		{"greedy not last", apiWith(func(a *apigwv1.Api) { a.ReqUri = "/a/{p+}/b" }), "req_uri", "last segment"},
		{"duplicate path param", apiWith(func(a *apigwv1.Api) { a.ReqUri = "/a/{id}/{id}" }), "req_uri", "twice"},
		{"query in path", apiWith(func(a *apigwv1.Api) { a.ReqUri = "/a?b=c" }), "req_uri", "?"},
		{"empty segment", apiWith(func(a *apigwv1.Api) { a.ReqUri = "/a//b" }), "req_uri", "empty"},
		{"match mode", apiWith(func(a *apigwv1.Api) { a.MatchMode = "REGEX" }), "match_mode", "one of"},
		{"auth type", apiWith(func(a *apigwv1.Api) { a.AuthType = "BASIC" }), "auth_type", "one of"},
		{"appcode needs APP", apiWith(func(a *apigwv1.Api) { a.AuthOpt = &apigwv1.AuthOpt{AppCodeAuthType: "HEADER"} }), "auth_opt.app_code_auth_type", "requires auth_type APP"},
		{"authorizer required", apiWith(func(a *apigwv1.Api) { a.AuthType = "AUTHORIZER" }), "authorizer_id", "required"},
		{"authorizer needs auth", apiWith(func(a *apigwv1.Api) { a.AuthorizerId = "x" }), "authorizer_id", "needs auth_type"},
		{"content type", apiWith(func(a *apigwv1.Api) { a.ContentType = "text/html" }), "content_type", "one of"},
		{"base64 false needs json", apiWith(func(a *apigwv1.Api) { a.IsSendFgBodyBase64 = proto.Bool(false); a.ContentType = "text/plain" }), "is_send_fg_body_base64", "application/json"},
		{"remark length", apiWith(func(a *apigwv1.Api) { a.Remark = strings.Repeat("r", 256) }), "remark", "255"},
		{"too many tags", apiWith(func(a *apigwv1.Api) { a.Tags = strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",") }), "tags", "at most 10"},
		{"empty tag", apiWith(func(a *apigwv1.Api) { a.Tags = []string{""} }), "tags[0]", "1-128"},
		{"too many params", apiWith(func(a *apigwv1.Api) {
			for i := 0; i < 50; i++ {
				a.ReqParams = append(a.ReqParams, &apigwv1.ReqParam{Name: "p" + strings.Repeat("x", i%20) + string(rune('a'+i%26)) + string(rune('a'+i/26)), Location: "QUERY"})
			}
		}), "req_params", "at most 50"},
		{"param name", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].Name = "1abc" }), "req_params[0].name", "starting with a letter"},
		{"param location", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].Location = "BODY" }), "req_params[0].location", "one of"},
		{"reserved x-apig-", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].Name = "X-Apig-Mode" }), "req_params[0].name", "x-apig-"},
		{"reserved x-sdk-", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].Name = "x-sdk-date" }), "req_params[0].name", "x-sdk-"},
		{"reserved x-stage", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].Name = "X-Stage" }), "req_params[0].name", "x-stage"},
		{"reserved Authorization", apiWith(func(a *apigwv1.Api) { a.ReqParams[1].Name = "Authorization" }), "req_params[1].name", "reserved"},
		{"reserved X-Auth-Token", apiWith(func(a *apigwv1.Api) { a.ReqParams[1].Name = "x-auth-token" }), "req_params[1].name", "reserved"},
		{"header with underscore", apiWith(func(a *apigwv1.Api) { a.ReqParams[1].Name = "X_Trace" }), "req_params[1].name", "_"},
		{"duplicate header case-insensitive", apiWith(func(a *apigwv1.Api) {
			a.ReqParams = append(a.ReqParams, &apigwv1.ReqParam{Name: "x-trace", Location: "HEADER"})
		}), "req_params[2].name", "twice"},
		{"PATH param not in path", apiWith(func(a *apigwv1.Api) {
			a.ReqParams = append(a.ReqParams, &apigwv1.ReqParam{Name: "other", Location: "PATH"})
		}), "req_params[2].name", "not in req_uri"},
		{"PATH param optional", apiWith(func(a *apigwv1.Api) {
			a.ReqParams = append(a.ReqParams, &apigwv1.ReqParam{Name: "id", Location: "PATH", Required: 2})
		}), "req_params[2].required", "always required"},
		{"param type", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].Type = "BOOL" }), "req_params[0].type", "one of"},
		{"required flag", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].Required = 3 }), "req_params[0].required", "one of"},
		{"min > max num", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].MinNum, a.ReqParams[0].MaxNum = proto.Int32(5), proto.Int32(1) }), "req_params[0].min_num", "max_num"},
		{"min > max size", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].MinSize, a.ReqParams[0].MaxSize = proto.Int32(5), proto.Int32(1) }), "req_params[0].min_size", "max_size"},
		{"number default", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].Type, a.ReqParams[0].DefaultValue = "NUMBER", "abc" }), "req_params[0].default_value", "number"},
		{"number enum", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].Type, a.ReqParams[0].Enumerations = "NUMBER", "1,x" }), "req_params[0].enumerations", "not a number"},
		{"backend type", apiWith(func(a *apigwv1.Api) { a.BackendType = "GRPC" }), "backend_type", "one of"},
		{"backend required", apiWith(func(a *apigwv1.Api) { a.BackendApi = nil }), "backend_api", "required"},
		{"timeout over instance max", apiWith(func(a *apigwv1.Api) { a.BackendApi.Timeout = 60001 }), "backend_api.timeout", "between 1 and 60000"},
		{"retry range", apiWith(func(a *apigwv1.Api) { a.BackendApi.RetryCount = proto.Int32(11) }), "backend_api.retry_count", "between -1 and 10"},
		{"retry below -1", apiWith(func(a *apigwv1.Api) { a.BackendApi.RetryCount = proto.Int32(-2) }), "backend_api.retry_count", "between -1 and 10"},
		{"backend protocol", apiWith(func(a *apigwv1.Api) { a.BackendApi.ReqProtocol = "GRPC" }), "backend_api.req_protocol", "one of"},
		{"backend path", apiWith(func(a *apigwv1.Api) { a.BackendApi.ReqUri = "v1" }), "backend_api.req_uri", "start with /"},
		{"backend greedy", apiWith(func(a *apigwv1.Api) { a.BackendApi.ReqUri = "/v1/{id+}" }), "backend_api.req_uri", "greedy"},
		{"backend address port", apiWith(func(a *apigwv1.Api) { a.BackendApi.UrlDomain = "10.0.0.1:70000" }), "backend_api.url_domain", "port"},
		{"backend address chars", apiWith(func(a *apigwv1.Api) { a.BackendApi.UrlDomain = "http://x" }), "backend_api.url_domain", "host[:port]"},
		{"backend address required", apiWith(func(a *apigwv1.Api) { a.BackendApi.UrlDomain = "" }), "backend_api.url_domain", "required"},
		{"bad variable name", apiWith(func(a *apigwv1.Api) { a.BackendApi.UrlDomain = "#1x#" }), "backend_api.url_domain", "variable name"},
		{"unterminated variable", apiWith(func(a *apigwv1.Api) { a.BackendApi.ReqUri = "/v1/#path" }), "backend_api.req_uri", "unterminated"},
		{"channel id required", apiWith(func(a *apigwv1.Api) { a.BackendApi.VpcChannelStatus = 1 }), "backend_api.vpc_channel_info.vpc_channel_id", "required"},
		{"channel status", apiWith(func(a *apigwv1.Api) { a.BackendApi.VpcChannelStatus = 3 }), "backend_api.vpc_channel_status", "1 (use a channel)"},
		{"backend path var without param", apiWith(func(a *apigwv1.Api) { a.BackendApi.ReqUri = "/v1/{other}" }), "backend_params", "{other}"},
		{"backend param origin", apiWith(func(a *apigwv1.Api) {
			a.BackendParams = []*apigwv1.BackendParam{{Name: "x", Location: "HEADER", Origin: "MAGIC", Value: "v"}}
		}), "backend_params[0].origin", "one of"},
		{"backend REQUEST unknown param", apiWith(func(a *apigwv1.Api) {
			a.BackendParams = []*apigwv1.BackendParam{{Name: "x", Location: "HEADER", Origin: "REQUEST", Value: "nope"}}
		}), "backend_params[0].value", "no declared request parameter"},
		{"backend SYSTEM unknown", apiWith(func(a *apigwv1.Api) {
			a.BackendParams = []*apigwv1.BackendParam{{Name: "x", Location: "HEADER", Origin: "SYSTEM", Value: "$context.bogus"}}
		}), "backend_params[0].value", "unknown system parameter"},
		{"backend SYSTEM frontend needs authorizer", apiWith(func(a *apigwv1.Api) {
			a.BackendParams = []*apigwv1.BackendParam{{Name: "x", Location: "HEADER", Origin: "SYSTEM", Value: "user", SystemParamType: "frontend"}}
		}), "backend_params[0].value", "frontend authorizer"},
		{"backend header starting with _", apiWith(func(a *apigwv1.Api) {
			a.BackendParams = []*apigwv1.BackendParam{{Name: "x_", Location: "HEADER", Origin: "CONSTANT", Value: "v"}, {Name: "X-Apig-X", Location: "QUERY", Origin: "CONSTANT", Value: "v"}}
		}), "backend_params[1].name", "x-apig-"},
		{"backend PATH param not in path", apiWith(func(a *apigwv1.Api) {
			a.BackendParams = append(a.BackendParams, &apigwv1.BackendParam{Name: "zzz", Location: "PATH", Origin: "CONSTANT", Value: "v"})
		}), "backend_params[0].name", "not in the backend req_uri"},
		{"too many policy backends", apiWith(func(a *apigwv1.Api) {
			for _, n := range []string{"p_one", "p_two", "p_three", "p_four", "p_five", "p_six"} {
				a.PolicyHttps = append(a.PolicyHttps, &apigwv1.PolicyHttp{Name: n, UrlDomain: "10.0.0.2", ReqUri: "/x",
					Conditions: []*apigwv1.Condition{{ConditionOrigin: "source", ConditionValue: "10.0.0.0/8"}}})
			}
		}), "policy_https", "at most 5"},
		{"policy without conditions", apiWith(func(a *apigwv1.Api) {
			a.PolicyHttps = []*apigwv1.PolicyHttp{{Name: "p_one", UrlDomain: "10.0.0.2", ReqUri: "/x"}}
		}), "policy_https[0].conditions", "at least one"},
		{"policy type must follow backend", apiWith(func(a *apigwv1.Api) {
			a.PolicyMocks = []*apigwv1.PolicyMock{{Name: "p_one", Conditions: []*apigwv1.Condition{{ConditionOrigin: "source", ConditionValue: "10.0.0.1"}}}}
		}), "policy_mocks", "backend_type MOCK"},
		{"condition param undeclared", apiWith(func(a *apigwv1.Api) {
			a.PolicyHttps = policyWith(&apigwv1.Condition{ConditionOrigin: "param", ReqParamName: "nope", ConditionType: "exact", ConditionValue: "1"})
		}), "policy_https[0].conditions[0].req_param_name", "no declared"},
		{"condition source range", apiWith(func(a *apigwv1.Api) {
			a.PolicyHttps = policyWith(&apigwv1.Condition{ConditionOrigin: "source", ConditionValue: "10.0.0.1-10.0.0.5"})
		}), "policy_https[0].conditions[0].condition_value", "IP addresses and CIDRs"},
		{"condition pattern regex", apiWith(func(a *apigwv1.Api) {
			a.PolicyHttps = policyWith(&apigwv1.Condition{ConditionOrigin: "param", ReqParamName: "q", ConditionType: "pattern", ConditionValue: "(["})
		}), "policy_https[0].conditions[0].condition_value", "regular expression"},
		{"condition method pattern", apiWith(func(a *apigwv1.Api) {
			a.PolicyHttps = policyWith(&apigwv1.Condition{ConditionOrigin: "system", SysParamName: "req_method", ConditionType: "pattern", ConditionValue: "GET"})
		}), "policy_https[0].conditions[0].condition_type", "exact or enum"},
		{"condition method value", apiWith(func(a *apigwv1.Api) {
			a.PolicyHttps = policyWith(&apigwv1.Condition{ConditionOrigin: "system", SysParamName: "req_method", ConditionType: "enum", ConditionValue: "GET,FETCH"})
		}), "policy_https[0].conditions[0].condition_value", "FETCH"},
		{"condition system name", apiWith(func(a *apigwv1.Api) {
			a.PolicyHttps = policyWith(&apigwv1.Condition{ConditionOrigin: "system", SysParamName: "host", ConditionType: "exact", ConditionValue: "x"})
		}), "policy_https[0].conditions[0].sys_param_name", "one of"},
		{"mock status", func() *apigwv1.Api {
			a := validAPI()
			a.BackendType, a.BackendApi, a.MockInfo = "MOCK", nil, &apigwv1.MockInfo{StatusCode: 99}
			return a
		}(), "mock_info.status_code", "between 200 and 599"},
		{"function url", func() *apigwv1.Api {
			a := validAPI()
			a.BackendType, a.BackendApi, a.FuncInfo = "FUNCTION", nil, &apigwv1.FuncInfo{FunctionUrn: "ftp://x", Timeout: 100}
			return a
		}(), "func_info.function_urn", "http(s) URL"},
		{"function V1 timeout", func() *apigwv1.Api {
			a := validAPI()
			a.BackendType, a.BackendApi, a.FuncInfo = "FUNCTION", nil, &apigwv1.FuncInfo{FunctionUrn: "http://f", Timeout: 60001}
			return a
		}(), "func_info.timeout", "between 1 and 60000"},
	})
}

func policyWith(c *apigwv1.Condition) []*apigwv1.PolicyHttp {
	return []*apigwv1.PolicyHttp{{Name: "p_one", UrlDomain: "10.0.0.2", ReqUri: "/x", Conditions: []*apigwv1.Condition{c}}}
}

func TestTimeoutFollowsTheInstanceMaximum(t *testing.T) {
	a := validAPI()
	a.BackendApi.Timeout = 300000
	model.Normalize(a)
	raised := model.InstanceLimits(model.EffectiveConfig(&apigwv1.Instance{Config: &apigwv1.InstanceConfig{BackendTimeout: &apigwv1.BackendTimeoutFeature{MaxTimeout: 600000}}}))
	if vs := model.Validate(a, raised); len(vs) > 0 {
		t.Errorf("300 s within a raised maximum: %v", vs)
	}
	if vs := model.Validate(a, model.InstanceLimits(model.EffectiveConfig(nil))); len(vs) != 1 {
		t.Errorf("300 s over the default maximum: %v", vs)
	}
	a.BackendApi.Timeout = 600001
	if vs := model.Validate(a, model.AbsoluteLimits()); len(vs) != 1 {
		t.Errorf("over the absolute maximum: %v", vs)
	}
}
