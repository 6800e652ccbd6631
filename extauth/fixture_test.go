package extauth_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Credentials of the fixture apps.
const (
	key1    = "app-key-000001"
	secret1 = "app-secret-0001"
	key2    = "app-key-000002" // not authorized for any API
	secret2 = "app-secret-0002"
	key3    = "app-key-000003" // frozen
	key4    = "app-key-000004" // PERMIT 192.168.0.0/16 only
	secret4 = "app-secret-0004"
)

var appCode1 = "Code1" + strings.Repeat("a", 70)

const envTest = "env-test"

func i32(v int32) *int32 { return &v }

// fixture is the test world: one group with gateway responses, APIs for
// every feature, apps, ACLs and authorizers. authzURL is the custom
// authorizer endpoint.
type fixture struct {
	objs     []proto.Message
	releases [][2]string
}

func (f *fixture) add(objs ...proto.Message) { f.objs = append(f.objs, objs...) }

func (f *fixture) api(a *apigwv1.Api, envs ...string) {
	a.GroupId = "g1"
	if a.ReqMethod == "" {
		a.ReqMethod = "GET"
	}
	if a.ReqProtocol == "" {
		a.ReqProtocol = model.ProtoBoth
	}
	if a.BackendType == "" && a.BackendApi == nil {
		a.BackendApi = &apigwv1.BackendApi{UrlDomain: "backend.internal:8080", ReqUri: a.ReqUri}
	}
	f.add(a)
	if len(envs) == 0 {
		envs = []string{model.ReleaseEnvID}
	}
	for _, e := range envs {
		f.releases = append(f.releases, [2]string{a.Id, e})
	}
}

func (f *fixture) authorize(appID, apiID string) {
	f.add(&apigwv1.AppAuth{Id: "auth-" + appID + "-" + apiID, AppId: appID, ApiId: apiID, EnvId: model.ReleaseEnvID})
}

func (f *fixture) instance(t testing.TB) *model.Instance {
	return published(t, model.DefaultInstance, f.objs, f.releases...)
}

func newFixture(authzURL string, cfg *apigwv1.InstanceConfig) *fixture {
	f := &fixture{}
	f.add(&apigwv1.Instance{Name: model.DefaultInstance, Config: cfg})
	f.add(&apigwv1.ApiGroup{Id: "g1", Name: "shop", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}}})
	f.add(&apigwv1.Environment{Id: envTest, Name: "TEST"})
	f.add(&apigwv1.GatewayResponse{Id: "resp-default", GroupId: "g1", Name: "default", Responses: map[string]*apigwv1.ResponseInfo{
		"AUTH_FAILURE": {Status: 401, Body: `{"error_code":"$context.error.code","error_msg":"$context.error.message","request_id":"$context.requestId"}`,
			Headers: []*apigwv1.ResponseHeader{{Key: "X-Auth-Hint", Value: "sign with SDK-HMAC-SHA256"}}},
		"UNAUTHORIZED": {Status: 403},
	}})
	f.add(&apigwv1.GatewayResponse{Id: "resp-custom", GroupId: "g1", Name: "custom", Responses: map[string]*apigwv1.ResponseInfo{
		"AUTHORIZER_FAILURE": {Status: 403, Body: `{"code":"$context.authorizer.frontend.code","api":"$context.apiName","ip":"$context.sourceIp"}`},
	}})

	// Apps.
	f.add(
		&apigwv1.App{Id: "app1", Name: "client_one", AppKey: key1, AppSecret: secret1, AppCodes: []*apigwv1.AppCode{{Id: "c1", AppCode: appCode1}}},
		&apigwv1.App{Id: "app2", Name: "client_two", AppKey: key2, AppSecret: secret2},
		&apigwv1.App{Id: "app3", Name: "client_frozen", AppKey: key3, AppSecret: "app-secret-0003", Status: 2},
		&apigwv1.App{Id: "app4", Name: "client_lan", AppKey: key4, AppSecret: secret4,
			AppAcl: &apigwv1.AppAcl{AppAclType: model.ACLPermit, AppAclValues: []string{"192.168.0.0/16", "10.9.0.1-10.9.0.9"}}},
	)

	// APP signature: path parameter, constant, system and request mappings.
	f.api(&apigwv1.Api{Id: "api-app", Name: "get_pet", ReqUri: "/pets/{id}", AuthType: model.AuthApp,
		ReqParams:  []*apigwv1.ReqParam{{Name: "id", Location: model.LocPath, Type: model.TypeNumber}},
		BackendApi: &apigwv1.BackendApi{UrlDomain: "pets.internal", ReqUri: "/v1/pets/{id}"},
		BackendParams: []*apigwv1.BackendParam{
			{Name: "X-Pet-Id", Location: model.LocHeader, Origin: model.OriginRequest, Value: "id"},
			{Name: "tag", Location: model.LocQuery, Origin: model.OriginConstant, Value: "[api] x&y"},
			{Name: "X-Src", Location: model.LocHeader, Origin: model.OriginSystem, Value: "$context.sourceIp"},
			{Name: "X-App", Location: model.LocHeader, Origin: model.OriginSystem, Value: "appId"},
			{Name: "X-App-Name", Location: model.LocHeader, Origin: model.OriginSystem, Value: "appName"},
			{Name: "X-Env", Location: model.LocHeader, Origin: model.OriginSystem, Value: "stage"},
			{Name: "X-Api", Location: model.LocHeader, Origin: model.OriginSystem, Value: "apiName"},
			{Name: "X-Req", Location: model.LocHeader, Origin: model.OriginSystem, Value: "requestId"},
			{Name: "X-Server", Location: model.LocHeader, Origin: model.OriginSystem, Value: "serverName"},
			{Name: "X-Addr", Location: model.LocHeader, Origin: model.OriginSystem, Value: "serverAddr"},
			{Name: "X-Time", Location: model.LocHeader, Origin: model.OriginSystem, Value: "handleTime"},
		}}, model.ReleaseEnvID, envTest)
	f.authorize("app1", "api-app")
	f.authorize("app3", "api-app")
	f.authorize("app4", "api-app")
	// A typical APP API: one path parameter, one mapped header.
	f.api(&apigwv1.Api{Id: "api-sig", Name: "get_item", ReqUri: "/items/{id}", AuthType: model.AuthApp,
		BackendApi:    &apigwv1.BackendApi{UrlDomain: "items.internal", ReqUri: "/v2/items/{id}"},
		BackendParams: []*apigwv1.BackendParam{{Name: "X-App-Id", Location: model.LocHeader, Origin: model.OriginSystem, Value: "appId"}}})
	f.authorize("app1", "api-sig")
	// POST with a signed body.
	f.api(&apigwv1.Api{Id: "api-post", Name: "create_order", ReqMethod: "POST", ReqUri: "/orders", AuthType: model.AuthApp})
	f.authorize("app1", "api-post")
	// APP with AppCode.
	f.api(&apigwv1.Api{Id: "api-code", Name: "code_api", ReqUri: "/code", AuthType: model.AuthApp,
		AuthOpt: &apigwv1.AuthOpt{AppCodeAuthType: model.AppCodeHeader}})
	f.authorize("app1", "api-code")
	// HTTPS-only API without authentication.
	f.api(&apigwv1.Api{Id: "api-https", Name: "secure", ReqUri: "/secure", ReqProtocol: model.ProtoHTTPS})

	// Parameters: validation, defaults, pass-through, cookie.
	f.api(&apigwv1.Api{Id: "api-params", Name: "search", ReqUri: "/search", AuthType: model.AuthNone,
		ReqParams: []*apigwv1.ReqParam{
			{Name: "limit", Location: model.LocQuery, Type: model.TypeNumber, ValidEnable: model.Yes, MinNum: i32(1), MaxNum: i32(100), DefaultValue: "10"},
			{Name: "x-mode", Location: model.LocHeader, Required: model.Yes, ValidEnable: model.Yes, Enumerations: "fast,slow"},
			{Name: "q", Location: model.LocQuery, ValidEnable: model.Yes, MinSize: i32(2), MaxSize: i32(5)},
			{Name: "secret", Location: model.LocQuery, PassThrough: model.No},
			{Name: "x-internal", Location: model.LocHeader, PassThrough: model.No},
			{Name: "x-lang", Location: model.LocHeader, DefaultValue: "en"},
			{Name: "session", Location: model.LocCookie},
		},
		BackendParams: []*apigwv1.BackendParam{
			{Name: "X-Session", Location: model.LocHeader, Origin: model.OriginRequest, Value: "session"},
			{Name: "size", Location: model.LocQuery, Origin: model.OriginRequest, Value: "limit"},
		}})
	// The mapping example of docs/apig-semantics.md#backend-parameters.
	f.api(&apigwv1.Api{Id: "api-map", Name: "mapping", ReqUri: "/v1.0/{test01}",
		ReqParams: []*apigwv1.ReqParam{
			{Name: "test01", Location: model.LocPath},
			{Name: "test02", Location: model.LocHeader},
			{Name: "test03", Location: model.LocQuery},
		},
		BackendApi: &apigwv1.BackendApi{UrlDomain: "b.internal", ReqUri: "/v1.0/{test05}"},
		BackendParams: []*apigwv1.BackendParam{
			{Name: "test01", Location: model.LocHeader, Origin: model.OriginRequest, Value: "test01"},
			{Name: "test03", Location: model.LocHeader, Origin: model.OriginRequest, Value: "test03"},
			{Name: "test05", Location: model.LocPath, Origin: model.OriginRequest, Value: "test02"},
		}})
	// Prefix match with remainder, and a greedy parameter.
	f.api(&apigwv1.Api{Id: "api-prefix", Name: "prefix", ReqUri: "/test/", MatchMode: model.MatchPrefix,
		BackendApi: &apigwv1.BackendApi{UrlDomain: "b.internal", ReqUri: "/test2/"},
		PolicyHttps: []*apigwv1.PolicyHttp{{Name: "deep_paths", UrlDomain: "deep.internal", ReqUri: "/deep/", Conditions: []*apigwv1.Condition{
			{ConditionOrigin: model.CondSystem, SysParamName: "req_path", ConditionType: model.CondPattern, ConditionValue: "^/test/deep/"},
		}}}})
	f.api(&apigwv1.Api{Id: "api-greedy", Name: "greedy", ReqUri: "/files/{path+}",
		BackendApi: &apigwv1.BackendApi{UrlDomain: "b.internal", ReqUri: "/store/{path}"}})

	// Policy backends.
	f.api(&apigwv1.Api{Id: "api-policy", Name: "routed", ReqUri: "/routed",
		ReqParams:  []*apigwv1.ReqParam{{Name: "tier", Location: model.LocQuery}},
		BackendApi: &apigwv1.BackendApi{UrlDomain: "default.internal", ReqUri: "/default"},
		PolicyHttps: []*apigwv1.PolicyHttp{
			{Name: "gold_tier", EffectMode: model.EffectAll, UrlDomain: "gold.internal", ReqUri: "/gold", Conditions: []*apigwv1.Condition{
				{ConditionOrigin: model.CondParam, ReqParamName: "tier", ConditionType: model.CondExact, ConditionValue: "gold"},
				{ConditionOrigin: model.CondSystem, SysParamName: "req_method", ConditionType: model.CondEnum, ConditionValue: "GET,HEAD"},
			}, BackendParams: []*apigwv1.BackendParam{{Name: "X-Tier", Location: model.LocHeader, Origin: model.OriginConstant, Value: "gold"}}},
			{Name: "lan_users", UrlDomain: "lan.internal", ReqUri: "/lan", Conditions: []*apigwv1.Condition{
				{ConditionOrigin: model.CondSource, ConditionValue: "10.0.0.0/8,172.16.0.1"},
				{ConditionOrigin: model.CondCookie, CookieParamName: "beta", ConditionType: model.CondPattern, ConditionValue: "^on"},
			}},
		}})

	// ACLs bound to api-params: deny a network, permit everything else.
	f.add(&apigwv1.Acl{Id: "acl-deny", AclName: "blocked_nets", AclType: model.ACLDeny, EntityType: model.EntityIP, AclValue: "203.0.113.0/24,198.51.100.200-198.51.100.250"},
		&apigwv1.AclBinding{Id: "ab1", AclId: "acl-deny", ApiId: "api-params", EnvId: model.ReleaseEnvID})
	// api-https is whitelisted for one network only.
	f.add(&apigwv1.Acl{Id: "acl-permit", AclName: "office_only", AclType: model.ACLPermit, EntityType: model.EntityIP, AclValue: "198.51.100.0/24"},
		&apigwv1.AclBinding{Id: "ab2", AclId: "acl-permit", ApiId: "api-https", EnvId: model.ReleaseEnvID})

	// Custom authorizers.
	if authzURL != "" {
		f.add(&apigwv1.Authorizer{Id: "az-front", Name: "front_auth", Type: model.AuthorizerFrontend, AuthorizerUri: authzURL + "/front",
			Ttl: 60, UserData: "tenant-a", Identities: []*apigwv1.Identity{{Name: "X-Token", Location: model.LocHeader}}})
		f.add(&apigwv1.Authorizer{Id: "az-back", Name: "back_auth", Type: model.AuthorizerBackend, AuthorizerUri: authzURL + "/back", UserData: "backend"})
		f.api(&apigwv1.Api{Id: "api-authz", Name: "custom_auth", ReqUri: "/custom", AuthType: model.AuthAuthorizer, AuthorizerId: "az-front",
			ResponseId: "custom",
			BackendApi: &apigwv1.BackendApi{UrlDomain: "b.internal", ReqUri: "/custom", AuthorizerId: "az-back"},
			BackendParams: []*apigwv1.BackendParam{
				{Name: "X-User", Location: model.LocHeader, Origin: model.OriginSystem, Value: "user", SystemParamType: model.SysParamFrontend},
				{Name: "X-Backend-Grant", Location: model.LocHeader, Origin: model.OriginSystem, Value: "$context.authorizer.backend.grant"},
			},
			PolicyHttps: []*apigwv1.PolicyHttp{{Name: "admins", UrlDomain: "admin.internal", ReqUri: "/admin", Conditions: []*apigwv1.Condition{
				{ConditionOrigin: model.CondFrontendAuthorizer, FrontendAuthorizerParamName: "$context.authorizer.frontend.role", ConditionType: model.CondExact, ConditionValue: "admin"},
			}}}})
		f.api(&apigwv1.Api{Id: "api-authz-lite", Name: "custom_auth_lite", ReqUri: "/lite", AuthType: model.AuthAuthorizer, AuthorizerId: "az-front",
			BackendParams: []*apigwv1.BackendParam{{Name: "X-User", Location: model.LocHeader, Origin: model.OriginSystem, Value: "$context.authorizer.frontend.user"}}})
		f.api(&apigwv1.Api{Id: "api-2fa", Name: "two_factor", ReqUri: "/two-factor", AuthType: model.AuthApp, AuthorizerId: "az-front"})
		f.authorize("app1", "api-2fa")
	}

	// IAM.
	f.api(&apigwv1.Api{Id: "api-iam", Name: "iam_api", ReqUri: "/iam", AuthType: model.AuthIAM,
		BackendParams: []*apigwv1.BackendParam{
			{Name: "X-Env", Location: model.LocHeader, Origin: model.OriginSystem, Value: "stage"},
			{Name: "X-Api-Id", Location: model.LocHeader, Origin: model.OriginSystem, Value: "$context.apiId"},
			{Name: "api", Location: model.LocPath, Origin: model.OriginConstant, Value: "[api] v1"},
		},
		BackendApi: &apigwv1.BackendApi{UrlDomain: "iam.internal", ReqUri: "/iam/{api}"}})
	f.api(&apigwv1.Api{Id: "api-iam-acl", Name: "iam_acl_api", ReqUri: "/iam-acl", AuthType: model.AuthIAM})
	f.add(&apigwv1.Acl{Id: "acl-acct", AclName: "partners", AclType: model.ACLPermit, EntityType: model.EntityDomainID, AclValue: "acct-42,acct-43"},
		&apigwv1.AclBinding{Id: "ab3", AclId: "acl-acct", ApiId: "api-iam-acl", EnvId: model.ReleaseEnvID},
		&apigwv1.Acl{Id: "acl-name", AclName: "no_evil", AclType: model.ACLDeny, EntityType: model.EntityDomain, AclValue: "evil-corp"},
		&apigwv1.AclBinding{Id: "ab4", AclId: "acl-name", ApiId: "api-iam", EnvId: model.ReleaseEnvID})

	// Mock backend.
	f.api(&apigwv1.Api{Id: "api-mock", Name: "mocked", ReqUri: "/mock", BackendType: model.BackendMock, MockInfo: &apigwv1.MockInfo{ResultContent: "hi"}})
	return f
}
