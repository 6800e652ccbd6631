package translate

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Every oidc_auth plug-in the model accepts translates to an oauth2 filter,
// a token-endpoint cluster and two secrets that pass Envoy's validation;
// the defaults (scope, sign-out path) are filled in.
func TestOIDCPluginsTranslate(t *testing.T) {
	for _, content := range []string{
		`{"client_id":"web","authorization_endpoint":"https://idp.example.com/a","token_endpoint":"https://idp.example.com/t","redirect_uri":"https://api.example.com/cb"}`,
		`{"client_id":"web","authorization_endpoint":"https://idp.example.com/a?x=1","token_endpoint":"https://[::1]:8443/t","redirect_uri":"http://localhost:8080/cb","scope":"openid  email","logout_path":"/bye","pass_through_methods":["options","GET"]}`,
		`{"client_id":"web","authorization_endpoint":"https://idp.example.com/a","token_endpoint":"https://10.0.0.7/oauth/token","redirect_uri":"https://api.example.com/a/b/cb"}`,
	} {
		p := &apigwv1.Plugin{Id: "p1", PluginName: "oidc_x", PluginType: model.PluginOIDCAuth, PluginContent: content, ClientSecret: "s"}
		model.Normalize(p)
		if vs := model.Validate(p, model.AbsoluteLimits()); len(vs) > 0 {
			t.Fatalf("%s: %v", content, vs)
		}
		fs, err := oidcFilters([]*apigwv1.Plugin{p})
		if err != nil || len(fs) != 1 || !fs[0].GetDisabled() {
			t.Fatalf("%s: filters %v, %v", content, fs, err)
		}
		cfg, _ := oidcConfig(p)
		if !strings.Contains(strings.Join(cfg.GetAuthScopes(), " "), "openid") || cfg.GetSignoutPath().GetPath().GetExact() == "" {
			t.Errorf("%s: scopes %v, sign-out %v", content, cfg.GetAuthScopes(), cfg.GetSignoutPath())
		}
		cls, err := oidcClusters([]*apigwv1.Plugin{p}, Options{}.withDefaults())
		if err != nil || len(cls) != 1 {
			t.Fatalf("%s: clusters %v, %v", content, cls, err)
		}
		for _, errs := range [][]error{deepValidate(cls[0]), deepValidate(fs[0])} {
			for _, err := range errs {
				t.Errorf("%s: %v", content, err)
			}
		}
		for _, s := range oidcSecrets([]*apigwv1.Plugin{p}) {
			if err := validate(s); err != nil {
				t.Errorf("%s: %v", content, err)
			}
		}
	}
}

// The HMAC secret is stable, differs per plug-in and changes with the
// client secret; it never equals the client secret.
func TestOIDCHMACSecretDerivation(t *testing.T) {
	a := &apigwv1.Plugin{Id: "a", ClientSecret: "s1"}
	b := &apigwv1.Plugin{Id: "b", ClientSecret: "s1"}
	a2 := &apigwv1.Plugin{Id: "a", ClientSecret: "s2"}
	if oidcHMACSecret(a) != oidcHMACSecret(&apigwv1.Plugin{Id: "a", ClientSecret: "s1"}) {
		t.Error("not stable")
	}
	if oidcHMACSecret(a) == oidcHMACSecret(b) || oidcHMACSecret(a) == oidcHMACSecret(a2) || oidcHMACSecret(a) == "s1" {
		t.Error("HMAC secrets must differ per plug-in and client secret")
	}
	if len(oidcHMACSecret(a)) < 32 {
		t.Errorf("HMAC secret too short: %q", oidcHMACSecret(a))
	}
}
