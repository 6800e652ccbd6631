package model_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

const oidcOK = `{"client_id":"web","authorization_endpoint":"https://idp.example.com/authorize","token_endpoint":"https://idp.example.com/token","redirect_uri":"https://api.example.com/app/callback"}`

func oidcPlugin(content, secret string) *apigwv1.Plugin {
	p := plugin("o1", model.PluginOIDCAuth, content)
	p.ClientSecret = secret
	return p
}

// oidcWith returns oidcOK with one field set (a raw JSON value).
func oidcWith(field, raw string) string {
	return strings.TrimSuffix(oidcOK, "}") + `,"` + field + `":` + raw + `}`
}

func TestOIDCAuthValidation(t *testing.T) {
	for _, tc := range []struct {
		name, content, secret string
		want                  string // violated field; "" = valid
	}{
		{"minimal", oidcOK, "s3cret", ""},
		{"full", `{"client_id":"web","authorization_endpoint":"https://idp.example.com/authorize","token_endpoint":"https://idp.example.com:8443/token","redirect_uri":"https://api.example.com/app/callback","scope":"openid profile email","logout_path":"/app/logout","refresh_token_enabled":true,"forward_access_token":true,"pass_through_methods":["options"]}`, "s3cret", ""},
		{"secret required", oidcOK, "", "client_secret"},
		{"secret in content", oidcWith("client_secret", `"x"`), "s3cret", "plugin_content.client_secret"},
		{"client_id required", `{"authorization_endpoint":"https://idp/a","token_endpoint":"https://idp/t","redirect_uri":"https://api/cb"}`, "s", "plugin_content.client_id"},
		{"token endpoint http", strings.Replace(oidcOK, "https://idp.example.com/token", "http://idp.example.com/token", 1), "s", "plugin_content.token_endpoint"},
		{"authorization endpoint relative", strings.Replace(oidcOK, "https://idp.example.com/authorize", "/authorize", 1), "s", "plugin_content.authorization_endpoint"},
		{"token endpoint bad port", strings.Replace(oidcOK, "idp.example.com/token", "idp.example.com:99999/token", 1), "s", "plugin_content.token_endpoint"},
		{"authorization endpoint bad host", strings.Replace(oidcOK, "idp.example.com/authorize", "idp_example!com/authorize", 1), "s", "plugin_content.authorization_endpoint"},
		{"redirect_uri missing", strings.Replace(oidcOK, `,"redirect_uri":"https://api.example.com/app/callback"`, "", 1), "s", "plugin_content.redirect_uri"},
		{"redirect_uri fragment", strings.Replace(oidcOK, "/app/callback", "/app/callback#x", 1), "s", "plugin_content.redirect_uri"},
		{"redirect_uri root", strings.Replace(oidcOK, "/app/callback", "/", 1), "s", "plugin_content.redirect_uri"},
		{"redirect_uri query", strings.Replace(oidcOK, "/app/callback", "/app/callback?x=1", 1), "s", "plugin_content.redirect_uri"},
		{"redirect_uri percent", strings.Replace(oidcOK, "/app/callback", "/app/%REQ(host)%", 1), "s", "plugin_content.redirect_uri"},
		{"scope without openid", oidcWith("scope", `"profile"`), "s", "plugin_content.scope"},
		{"logout path relative", oidcWith("logout_path", `"logout"`), "s", "plugin_content.logout_path"},
		{"logout path is the callback", oidcWith("logout_path", `"/app/callback"`), "s", "plugin_content.logout_path"},
		{"pass-through method", oidcWith("pass_through_methods", `["FETCH"]`), "s", "plugin_content.pass_through_methods"},
		{"discovery refused", oidcWith("discovery_url", `"https://idp/.well-known/openid-configuration"`), "s", "plugin_content.discovery_url"},
		{"issuer refused", oidcWith("issuer", `"https://idp"`), "s", "plugin_content.issuer"},
		{"unknown field", oidcWith("cookie_name", `"x"`), "s", "plugin_content"},
		// Huawei's OIDCAuthContent names.
		{"huawei discovery refused", oidcWith("discovery", `"https://idp/.well-known/openid-configuration"`), "s", "plugin_content.discovery"},
		{"huawei redirect_api_id refused", oidcWith("redirect_api_id", `"a1"`), "s", "plugin_content.redirect_api_id"},
		{"huawei logout_api_id refused", oidcWith("logout_api_id", `"a2"`), "s", "plugin_content.logout_api_id"},
		{"huawei access_token_expires_in", oidcWith("access_token_expires_in", `7200`), "s", ""},
		{"huawei access_token_expires_in negative", oidcWith("access_token_expires_in", `-1`), "s", "plugin_content.access_token_expires_in"},
		{"huawei access_token_expires_in too long", oidcWith("access_token_expires_in", `2592001`), "s", "plugin_content.access_token_expires_in"},
		{"huawei jwt_cache_enabled true", oidcWith("jwt_cache_enabled", `true`), "s", ""},
		{"huawei jwt_cache_enabled false refused", oidcWith("jwt_cache_enabled", `false`), "s", "plugin_content.jwt_cache_enabled"},
		{"huawei jwks_enabled false", oidcWith("jwks_enabled", `false`), "s", ""},
		{"huawei jwks_enabled true refused", oidcWith("jwks_enabled", `true`), "s", "plugin_content.jwks_enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := model.Validate(oidcPlugin(tc.content, tc.secret), model.AbsoluteLimits())
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

// client_secret belongs to oidc_auth plug-ins only.
func TestClientSecretRefusedOnOtherPlugins(t *testing.T) {
	p := plugin("c1", "cors", `{"allow_origin":"*","allow_methods":"GET"}`)
	p.ClientSecret = "x"
	vs := model.Validate(p, model.AbsoluteLimits())
	if len(vs) != 1 || vs[0].Field != "client_secret" {
		t.Fatalf("want one client_secret violation, got %v", vs)
	}
}

// The client secret is a secret field: sealed at rest, blanked on reads.
func TestClientSecretIsASecretField(t *testing.T) {
	p := oidcPlugin(oidcOK, "s3cret")
	var set []string
	for _, s := range model.Secrets(p) {
		if s.Get() != "" {
			set = append(set, s.Path+"="+s.Get())
		}
	}
	if strings.Join(set, ",") != "client_secret=s3cret" {
		t.Fatalf("secret fields set on a plug-in: %v, want client_secret", set)
	}
}

// The OIDC gateway-response types exist; the ones apigw cannot render
// are refused in a response set.
func TestOIDCResponseTypes(t *testing.T) {
	for typ, want := range map[string]int32{"OIDC_AUTH_CODE_FLOW_FAIL": 401, "OIDC_AUTH_TOKEN_VERIFY_FAIL": 401, "OIDC_AUTH_GET_DISCOVERY_ERROR": 500} {
		if st, ok := model.ResponseType(typ); !ok || st != want {
			t.Errorf("%s: status %d %v, want %d", typ, st, ok, want)
		}
		r := &apigwv1.GatewayResponse{Id: "r1", GroupId: "g1", Name: "default", Responses: map[string]*apigwv1.ResponseInfo{typ: {Status: 401}}}
		vs := model.Validate(r, model.AbsoluteLimits())
		if len(vs) == 0 || vs[0].Field != "responses."+typ {
			t.Errorf("%s: want a responses.%s violation (not rendered), got %v", typ, typ, vs)
		}
	}
}

// A publication keeps a copy of the bound plug-ins for its history, but
// not an oidc_auth plug-in's client secret; it still validates.
func TestPublicationLeavesTheClientSecretOut(t *testing.T) {
	o := oidcPlugin(oidcOK, "s3cret")
	in := pluginWorld(o, &apigwv1.PluginBinding{Id: "b1", ApiId: "a1", EnvId: "e1", PluginId: "o1"})
	if got := in.OIDCPlugins(); len(got) != 1 || got[0].Id != "o1" {
		t.Fatalf("OIDCPlugins = %v, want o1 (bound)", got)
	}
	pub, err := in.Publication("a1", "e1", "p1", "", "", testTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.Plugins) != 1 || pub.Plugins[0].ClientSecret != "" {
		t.Fatalf("publication plug-ins %v: want o1 without its client secret", pub.Plugins)
	}
	if o.ClientSecret != "s3cret" {
		t.Fatal("the stored plug-in lost its secret")
	}
	if vs := model.Validate(pub, model.AbsoluteLimits()); len(vs) > 0 {
		t.Errorf("publication: %v", vs)
	}
}

// Envoy's session cookies are Secure: an oidc_auth plug-in is refused on
// an HTTP-only API, at the binding and when a bound API becomes HTTP-only.
func TestOIDCAuthNeedsHTTPS(t *testing.T) {
	bind := &apigwv1.PluginBinding{Id: "b1", ApiId: "a1", EnvId: "e1", PluginId: "o1"}
	in := pluginWorld(oidcPlugin(oidcOK, "s"), bind)
	if vs := in.Check(bind); len(vs) > 0 {
		t.Fatalf("binding to an HTTPS API: %v", vs)
	}
	api := proto.Clone(in.API("a1")).(*apigwv1.Api)
	api.ReqProtocol = model.ProtoHTTP
	if vs := in.With([]proto.Message{api}, nil).Check(api); len(vs) == 0 || vs[0].Field != "req_protocol" {
		t.Errorf("bound API becoming HTTP-only: want a req_protocol violation, got %v", vs)
	}
	if vs := in.With([]proto.Message{api}, nil).Check(bind); len(vs) == 0 || vs[0].Field != "api_id" {
		t.Errorf("binding to an HTTP-only API: want an api_id violation, got %v", vs)
	}
	api.ReqProtocol = model.ProtoBoth
	if vs := in.With([]proto.Message{api}, nil).Check(api); len(vs) > 0 {
		t.Errorf("BOTH: %v", vs)
	}
}
