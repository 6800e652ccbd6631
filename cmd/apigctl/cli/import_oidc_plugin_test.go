package cli_test

import (
	"strings"
	"testing"
)

// oidcDoc binds an oidc_auth plug-in whose content carries the client
// secret, as an APIG document does.
const oidcDoc = `swagger: "2.0"
info: {title: oidcshop, version: "1.0"}
host: oidc.example.com
x-apigateway-plugins:
  shop_oidc:
    type: oidc_auth
    content: {"client_id": "web", "client_secret": "imported-oidc-secret", "authorization_endpoint": "https://idp.example.com/authorize", "token_endpoint": "https://idp.example.com/token", "redirect_uri": "https://oidc.example.com/app/callback", "scope": "openid profile", "logout_path": "/app/logout", "forward_access_token": true, "access_token_expires_in": 7200, "jwt_cache_enabled": true}
paths:
  /app:
    get:
      operationId: app
      responses: {default: {description: ok}}
      x-apigateway-plugins: [shop_oidc]
      x-apigateway-backend:
        type: HTTP
        httpEndpoints: {address: "10.0.0.9:8080", scheme: http, method: GET, path: /app, timeout: 5000}
`

// The client secret of an imported oidc_auth content moves to the
// plug-in's write-only client_secret: never read back nor exported. An
// export re-imports into the same instance unchanged (the stored secret
// is kept) and is refused elsewhere until the secret is added back.
func TestImportExportOIDCPlugin(t *testing.T) {
	e := start(t)
	f := writeFile(t, t.TempDir(), "oidc.yaml", oidcDoc)
	contains(t, "import", e.must("", "import", "-f", f), "plugin/shop_oidc created", "plugin_binding/")
	stored := e.must("", "get", "plugin", "shop_oidc", "-o", "yaml")
	contains(t, "stored", stored, "plugin_type: oidc_auth", `"client_id":"web"`, `"access_token_expires_in":7200`, `"jwt_cache_enabled":true`)
	if strings.Contains(stored, "imported-oidc-secret") || strings.Contains(stored, `client_secret":`) {
		t.Fatalf("the client secret is read back:\n%s", stored)
	}
	for _, oas := range []string{"2.0", "3.0"} {
		first := e.must("", "export", "--group", "oidcshop", "--draft", "--oas", oas)
		contains(t, "export "+oas, first, "x-apigateway-plugins:", "- shop_oidc", "type: oidc_auth", "https://idp.example.com/token", "access_token_expires_in", "jwt_cache_enabled")
		if strings.Contains(first, "imported-oidc-secret") || strings.Contains(first, "client_secret") {
			t.Fatalf("export %s carries the client secret:\n%s", oas, first)
		}
		g := writeFile(t, t.TempDir(), "export.yaml", first)
		out := e.must("", "import", "-f", g)
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasSuffix(l, "unchanged") {
				t.Errorf("%s: re-import into the same instance changed: %s", oas, l)
			}
		}
		inst := "oidc" + strings.ReplaceAll(oas, ".", "")
		e.must("kind: instance\nname: "+inst+"\n", "--instance", inst, "apply", "-f", "-")
		r := e.run("", "--instance", inst, "import", "-f", g)
		if r.code == 0 {
			t.Fatalf("%s: import without a client secret into a new instance succeeded:\n%s", oas, r.out)
		}
		contains(t, "refusal "+oas, r.err, "/x-apigateway-plugins/shop_oidc", "client_secret", "nothing was changed")
	}
}
