package model_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func validChannel() *apigwv1.VpcChannel {
	return &apigwv1.VpcChannel{Name: "pets_backends", Port: 8080,
		Members:         []*apigwv1.Member{{Host: "10.0.0.1", Weight: 10}, {Host: "backend.internal", Weight: 5}},
		VpcHealthConfig: &apigwv1.VpcHealthConfig{Protocol: "HTTP", Path: "/health", HttpCode: "200-299"}}
}

func validThrottle() *apigwv1.Throttle {
	return &apigwv1.Throttle{Name: "basic", ApiCallLimits: 100, UserCallLimits: 50, AppCallLimits: 20, IpCallLimits: 30, TimeInterval: 1, TimeUnit: "MINUTE",
		Specials: []*apigwv1.ThrottleSpecial{{ObjectType: "APP", ObjectId: "app1", CallLimits: 80}}}
}

func validGroup() *apigwv1.ApiGroup {
	return &apigwv1.ApiGroup{Name: "pets", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}, {Domain: "*.pets.example.com", SslId: "c1", IsHttpRedirectToHttps: true}}}
}

func validAuthorizer() *apigwv1.Authorizer {
	return &apigwv1.Authorizer{Name: "token_check", Type: "FRONTEND", AuthorizerUri: "https://auth.internal/check", Ttl: 60,
		Identities: []*apigwv1.Identity{{Name: "X-Token", Location: "HEADER", Validation: "^[a-z]+$"}}}
}

func TestOtherRules(t *testing.T) {
	ch := func(f func(c *apigwv1.VpcChannel)) *apigwv1.VpcChannel { c := validChannel(); f(c); return c }
	th := func(f func(c *apigwv1.Throttle)) *apigwv1.Throttle { c := validThrottle(); f(c); return c }
	gr := func(f func(c *apigwv1.ApiGroup)) *apigwv1.ApiGroup { c := validGroup(); f(c); return c }
	au := func(f func(c *apigwv1.Authorizer)) *apigwv1.Authorizer { c := validAuthorizer(); f(c); return c }
	run(t, []rule{
		// Groups.
		{"group name", gr(func(g *apigwv1.ApiGroup) { g.Name = "-x-" }), "name", "3-255"},
		{"group domain", gr(func(g *apigwv1.ApiGroup) { g.UrlDomains[0].Domain = "not a domain" }), "url_domains[0].domain", "domain name"},
		{"wildcard two levels", gr(func(g *apigwv1.ApiGroup) { g.UrlDomains[0].Domain = "*.*.example.com" }), "url_domains[0].domain", "wildcard"},
		{"domain twice", gr(func(g *apigwv1.ApiGroup) { g.UrlDomains[1].Domain = "API.example.com" }), "url_domains[1].domain", "twice"},
		{"too many domains", gr(func(g *apigwv1.ApiGroup) {
			for _, d := range []string{"a.example.com", "b.example.com", "c.example.com", "d.example.com"} {
				g.UrlDomains = append(g.UrlDomains, &apigwv1.UrlDomain{Domain: d})
			}
		}), "url_domains", "at most 5"},
		{"min tls", gr(func(g *apigwv1.ApiGroup) { g.UrlDomains[0].MinSslVersion = "TLSv1.0" }), "url_domains[0].min_ssl_version", "one of"},
		{"redirect needs cert", gr(func(g *apigwv1.ApiGroup) { g.UrlDomains[0].IsHttpRedirectToHttps = true }), "url_domains[0].is_http_redirect_to_https", "certificate"},
		{"redirect needs https served", gr(func(g *apigwv1.ApiGroup) { g.UrlDomains[1].IngressHttpsPort = -1 }), "url_domains[1].is_http_redirect_to_https", "ingress_https_port is -1"},
		{"ingress port", gr(func(g *apigwv1.ApiGroup) { g.UrlDomains[0].IngressHttpPort = 80 }), "url_domains[0].ingress_http_port", "1024-49151"},
		// Environments and variables.
		{"env name", &apigwv1.Environment{Name: "1abc"}, "name", "starting with a letter"},
		{"env RELEASE reserved", &apigwv1.Environment{Name: "RELEASE"}, "name", "built-in"},
		{"variable name", &apigwv1.EnvVariable{GroupId: "g", EnvId: "e", VariableName: "ab", VariableValue: "v"}, "variable_name", "3-32"},
		{"variable value", &apigwv1.EnvVariable{GroupId: "g", EnvId: "e", VariableName: "abc", VariableValue: "a b"}, "variable_value", "1-255"},
		{"variable group", &apigwv1.EnvVariable{EnvId: "e", VariableName: "abc", VariableValue: "v"}, "group_id", "required"},
		// Channels.
		{"channel name", ch(func(c *apigwv1.VpcChannel) { c.Name = "1x" }), "name", "3-64"},
		{"channel port", ch(func(c *apigwv1.VpcChannel) { c.Port = 0 }), "port", "between 1 and 65535"},
		{"channel strategy", ch(func(c *apigwv1.VpcChannel) { c.BalanceStrategy = 5 }), "balance_strategy", "between 1 and 4"},
		{"ecs members", ch(func(c *apigwv1.VpcChannel) { c.MemberType = "ecs" }), "member_type", "Huawei Cloud"},
		{"member host", ch(func(c *apigwv1.VpcChannel) { c.Members[0].Host = "bad host" }), "members[0].host", "IP address or a DNS name"},
		{"member weight", ch(func(c *apigwv1.VpcChannel) { c.Members[0].Weight = 10001 }), "members[0].weight", "between 0 and 10000"},
		{"member twice", ch(func(c *apigwv1.VpcChannel) { c.Members[1].Host = "10.0.0.1" }), "members[1].host", "twice"},
		{"member group unknown", ch(func(c *apigwv1.VpcChannel) { c.Members[0].MemberGroupName = "nope_group" }), "members[0].member_group_name", "no member group"},
		{"too many members", ch(func(c *apigwv1.VpcChannel) {
			for i := 0; i < 9; i++ {
				c.Members = append(c.Members, &apigwv1.Member{Host: "10.0.1." + string(rune('1'+i))})
			}
		}), "members", "at most 10"},
		{"health path", ch(func(c *apigwv1.VpcChannel) { c.VpcHealthConfig.Path = "" }), "vpc_health_config.path", "required"},
		{"health codes", ch(func(c *apigwv1.VpcChannel) { c.VpcHealthConfig.HttpCode = "200-99" }), "vpc_health_config.http_code", "status code"},
		{"health timeout < interval", ch(func(c *apigwv1.VpcChannel) { c.VpcHealthConfig.Timeout, c.VpcHealthConfig.TimeInterval = 10, 10 }), "vpc_health_config.timeout", "less than time_interval"},
		{"health thresholds", ch(func(c *apigwv1.VpcChannel) { c.VpcHealthConfig.ThresholdNormal = 11 }), "vpc_health_config.threshold_normal", "between 1 and 10"},
		{"health method", ch(func(c *apigwv1.VpcChannel) { c.VpcHealthConfig.Method = "POST" }), "vpc_health_config.method", "one of"},
		// Throttling.
		{"api limit required", th(func(t *apigwv1.Throttle) { t.ApiCallLimits = 0 }), "api_call_limits", "required"},
		{"api limit over instance", th(func(t *apigwv1.Throttle) { t.ApiCallLimits, t.TimeUnit = 500, "SECOND" }), "api_call_limits", "instance limit of 200"},
		{"user over api", th(func(t *apigwv1.Throttle) { t.UserCallLimits = 101 }), "user_call_limits", "api_call_limits"},
		{"app over user", th(func(t *apigwv1.Throttle) { t.AppCallLimits = 51 }), "app_call_limits", "user_call_limits"},
		{"ip over api", th(func(t *apigwv1.Throttle) { t.IpCallLimits = 101 }), "ip_call_limits", "api_call_limits"},
		{"interval", th(func(t *apigwv1.Throttle) { t.TimeInterval = 0 }), "time_interval", "at least 1"},
		{"unit", th(func(t *apigwv1.Throttle) { t.TimeUnit = "WEEK" }), "time_unit", "one of"},
		{"type", th(func(t *apigwv1.Throttle) { t.Type = 3 }), "type", "between 1 and 2"},
		{"special limit", th(func(t *apigwv1.Throttle) { t.Specials[0].CallLimits = 101 }), "specials[0].call_limits", "api_call_limits"},
		{"special type", th(func(t *apigwv1.Throttle) { t.Specials[0].ObjectType = "IP" }), "specials[0].object_type", "one of"},
		{"special twice", th(func(t *apigwv1.Throttle) {
			t.Specials = append(t.Specials, proto.Clone(t.Specials[0]).(*apigwv1.ThrottleSpecial))
		}), "specials[1].object_id", "two special"},
		{"too many specials", th(func(t *apigwv1.Throttle) {
			for i := 0; i < 30; i++ {
				t.Specials = append(t.Specials, &apigwv1.ThrottleSpecial{ObjectType: "APP", ObjectId: "a" + strings.Repeat("x", i), CallLimits: 1})
			}
		}), "specials", "at most 30"},
		// ACLs.
		{"acl type", &apigwv1.Acl{AclName: "office", AclType: "ALLOW", EntityType: "IP", AclValue: "10.0.0.1"}, "acl_type", "one of"},
		{"acl entity", &apigwv1.Acl{AclName: "office", AclType: "PERMIT", EntityType: "HOST", AclValue: "x"}, "entity_type", "one of"},
		{"acl ip", &apigwv1.Acl{AclName: "office", AclType: "PERMIT", EntityType: "IP", AclValue: "10.0.0.300"}, "acl_value", "not an IP"},
		{"acl range order", &apigwv1.Acl{AclName: "office", AclType: "PERMIT", EntityType: "IP", AclValue: "10.0.0.9-10.0.0.1"}, "acl_value", "must not exceed"},
		{"acl too many", &apigwv1.Acl{AclName: "office", AclType: "PERMIT", EntityType: "IP", AclValue: strings.Repeat("10.0.0.1,", 101)}, "acl_value", "at most 100"},
		{"acl account digits", &apigwv1.Acl{AclName: "office", AclType: "DENY", EntityType: "DOMAIN", AclValue: "12345"}, "acl_value", "not all digits"},
		{"acl empty", &apigwv1.Acl{AclName: "office", AclType: "DENY", EntityType: "IP"}, "acl_value", "required"},
		// Apps and quotas.
		{"app key", &apigwv1.App{Name: "mobile", AppKey: "short"}, "app_key", "8-200"},
		{"app secret", &apigwv1.App{Name: "mobile", AppSecret: "bad secret!"}, "app_secret", "8-128"},
		{"app code", &apigwv1.App{Name: "mobile", AppCodes: []*apigwv1.AppCode{{AppCode: "short"}}}, "app_codes[0].app_code", "64-180"},
		{"too many codes", &apigwv1.App{Name: "mobile", AppCodes: []*apigwv1.AppCode{{}, {}, {}, {}, {}, {}}}, "app_codes", "at most 5"},
		{"app acl", &apigwv1.App{Name: "mobile", AppAcl: &apigwv1.AppAcl{AppAclType: "PERMIT", AppAclValues: []string{"nope"}}}, "app_acl.app_acl_values[0]", "not an IP"},
		{"quota limits", &apigwv1.AppQuota{Name: "monthly", TimeUnit: "DAY", TimeInterval: 1}, "call_limits", "at least 1"},
		{"quota reset time", &apigwv1.AppQuota{Name: "monthly", CallLimits: 1, TimeUnit: "DAY", TimeInterval: 1, ResetTime: "2026-01-01T00:00"}, "reset_time", "2006-01-02 15:04:05"},
		// Authorizers.
		{"authorizer type", au(func(a *apigwv1.Authorizer) { a.Type = "MIDDLE" }), "type", "one of"},
		{"authorizer uri", au(func(a *apigwv1.Authorizer) { a.AuthorizerUri = "ftp://x" }), "authorizer_uri", "http(s) URL"},
		{"authorizer ttl", au(func(a *apigwv1.Authorizer) { a.Ttl = 3601 }), "ttl", "between 0 and 3600"},
		{"authorizer user data", au(func(a *apigwv1.Authorizer) { a.UserData = strings.Repeat("u", 2049) }), "user_data", "2048"},
		{"identity location", au(func(a *apigwv1.Authorizer) { a.Identities[0].Location = "COOKIE" }), "identities[0].location", "one of"},
		{"identity regex", au(func(a *apigwv1.Authorizer) { a.Identities[0].Validation = "([" }), "identities[0].validation", "regular expression"},
		{"backend identities", au(func(a *apigwv1.Authorizer) { a.Type = "BACKEND" }), "identities", "no identity sources"},
		// Gateway responses.
		{"response type", &apigwv1.GatewayResponse{GroupId: "g", Name: "x", Responses: map[string]*apigwv1.ResponseInfo{"TEAPOT": {}}}, "responses.TEAPOT", "unknown response type"},
		{"response status 444", &apigwv1.GatewayResponse{GroupId: "g", Name: "x", Responses: map[string]*apigwv1.ResponseInfo{"THROTTLED": {Status: 444}}}, "responses.THROTTLED.status", "except 444"},
		{"response header", &apigwv1.GatewayResponse{GroupId: "g", Name: "x", Responses: map[string]*apigwv1.ResponseInfo{"THROTTLED": {Headers: []*apigwv1.ResponseHeader{{Key: "X-A", Value: "[[x]]"}}}}}, "responses.THROTTLED.headers[0].value", "[["},
		// Certificates and instances.
		{"certificate pem", &apigwv1.Certificate{Name: "wildcard", CertContent: "nope", PrivateKey: "nope"}, "cert_content", "PEM certificate"},
		{"instance name", &apigwv1.Instance{Name: "Prod_1"}, "name", "[a-z0-9-]"},
		{"instance limits", &apigwv1.Instance{Name: "prod", Config: &apigwv1.InstanceConfig{Ratelimit: &apigwv1.RatelimitFeature{ApiLimits: 2000000}}}, "config.ratelimit.api_limits", "between 1 and 1000000"},
		{"instance max timeout", &apigwv1.Instance{Name: "prod", Config: &apigwv1.InstanceConfig{BackendTimeout: &apigwv1.BackendTimeoutFeature{MaxTimeout: 600001}}}, "config.backend_timeout.max_timeout", "600000"},
		{"instance body size", &apigwv1.Instance{Name: "prod", Config: &apigwv1.InstanceConfig{RequestBodySize: 10}}, "config.request_body_size", "between"},
		{"instance header getter", &apigwv1.Instance{Name: "prod", Config: &apigwv1.InstanceConfig{RealIpHeaderGetter: &apigwv1.RealIpHeaderGetter{Enable: true, HeaderGetter: "x-real-ip"}}}, "config.real_ip_header_getter.header_getter", "header:<name>"},
		{"instance iam", &apigwv1.Instance{Name: "prod", Config: &apigwv1.InstanceConfig{Iam: &apigwv1.IamConfig{JwksUri: "ftp://x"}}}, "config.iam.jwks_uri", "http(s) URL"},
		// Observability settings: everything accepted is rendered by Envoy.
		{"access log field", obs(&apigwv1.AccessLogConfig{Fields: []string{"api_id", "upstream_status"}}, nil), "config.access_log.fields[1]", "unknown field"},
		{"access log twice", obs(&apigwv1.AccessLogConfig{Fields: []string{"api_id", "api_id"}}, nil), "config.access_log.fields[1]", "twice"},
		{"access log cookie", obs(&apigwv1.AccessLogConfig{CustomFields: []*apigwv1.CustomLogField{{Location: "cookie", Name: "sid"}}}, nil), "config.access_log.custom_fields[0].location", "cookies cannot be logged"},
		{"access log header", obs(&apigwv1.AccessLogConfig{CustomFields: []*apigwv1.CustomLogField{{Location: "header", Name: "bad header"}}}, nil), "config.access_log.custom_fields[0].name", "header name"},
		{"access log query", obs(&apigwv1.AccessLogConfig{CustomFields: []*apigwv1.CustomLogField{{Location: "query", Name: "a%b"}}}, nil), "config.access_log.custom_fields[0].name", "query parameter"},
		{"access log eleven", obs(&apigwv1.AccessLogConfig{CustomFields: slices.Repeat([]*apigwv1.CustomLogField{{Location: "query", Name: "q"}}, 11)}, nil), "config.access_log.custom_fields", "at most 10"},
		{"access log path", obs(&apigwv1.AccessLogConfig{Path: "logs/access.log"}, nil), "config.access_log.path", "absolute"},
		{"tracing collector", obs(nil, &apigwv1.TracingConfig{Enabled: true}), "config.tracing.collector", "required"},
		{"tracing collector address", obs(nil, &apigwv1.TracingConfig{Collector: "http://otel:4317"}), "config.tracing.collector", "host:port"},
		{"tracing sampling", obs(nil, &apigwv1.TracingConfig{Collector: "otel:4317", SamplingPercentage: 101}), "config.tracing.sampling_percentage", "between 0 and 100"},
		// Bindings.
		{"binding api", &apigwv1.ThrottleBinding{EnvId: "e", StrategyId: "t"}, "api_id", "required"},
		{"binding policy", &apigwv1.AppAuth{ApiId: "a", EnvId: "e"}, "app_id", "required"},
	})
}

// obs is an instance with observability settings.
func obs(a *apigwv1.AccessLogConfig, tr *apigwv1.TracingConfig) *apigwv1.Instance {
	return &apigwv1.Instance{Name: "prod", Config: &apigwv1.InstanceConfig{AccessLog: a, Tracing: tr}}
}
