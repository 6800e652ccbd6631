package cli_test

import (
	"strings"
	"testing"
)

// pluginsDoc defines five plug-ins at the root (apigw's extension) and
// binds them, with APIG's operation-level list, to one API.
const pluginsDoc = `swagger: "2.0"
info: {title: plugshop, version: "1.0"}
host: plug.example.com
x-apigateway-plugins:
  cors_shop:
    type: cors
    content: '{"allow_origin":"https://shop.example.com","allow_methods":"GET","max_age":60}'
  shop_headers:
    type: set_resp_headers
    remark: security headers
    content: {"response_headers": [{"name": "X-Frame-Options", "value": "DENY", "action": "override"}]}
  shop_mirror:
    type: proxy_mirror
    content: '{"protocol":"HTTP","host":"10.0.0.99:8080","sample_ratio":0.5}'
  shop_jwt:
    type: jwt_auth
    content: {"jwks_service": {"url": "https://idp.example.com/jwks"}, "token_location": "query", "token_expiration_tolerance": "30", "issuer": "https://idp.example.com", "audiences": ["shop"], "carry_payload": {"claims": [{"claim": "sub", "header": "X-User"}]}}
  shop_third:
    type: third_auth
    content: '{"auth_request":{"method":"GET","protocol":"HTTPS","url_domain":"auth.example.com","path":"/check","timeout":3000},"identities":{"headers":[{"name":"X-Token"}]},"carry_resp_headers":["X-User"],"custom_forbid_limit":10}'
paths:
  /items:
    get:
      operationId: list_items
      responses: {default: {description: ok}}
      x-apigateway-plugins: [cors_shop, shop_headers, shop_mirror, shop_jwt, shop_third]
      x-apigateway-backend:
        type: HTTP
        httpEndpoints: {address: "10.0.0.9:8080", scheme: http, method: GET, path: /items, timeout: 5000}
`

// Plug-ins survive import → export → import: they are created from the
// root definitions, bound by the operation's list, exported with their
// definitions and imported again into another instance unchanged.
func TestImportExportRoundTripWithPlugins(t *testing.T) {
	e := start(t)
	f := writeFile(t, t.TempDir(), "plugins.yaml", pluginsDoc)
	y := e.must("", "import", "-f", f, "-o", "yaml")
	contains(t, "converted", y, "kind: plugin\n", "plugin_name: shop_mirror", "kind: plugin_binding", "plugin_id: cors_shop")
	out := e.must("", "import", "-f", f)
	contains(t, "import", out, "plugin/cors_shop created", "plugin/shop_headers created", "plugin/shop_mirror created", "plugin/shop_jwt created", "plugin/shop_third created", "plugin_binding/")
	out = e.must("", "get", "plugin_bindings", "--api", "list_items")
	if n := strings.Count(out, "DEFAULT_ENVIRONMENT_RELEASE_ID"); n != 5 {
		t.Fatalf("want 5 plug-in bindings in RELEASE:\n%s", out)
	}
	contains(t, "headers plug-in", e.must("", "get", "plugin", "shop_headers", "-o", "yaml"), "security headers", `X-Frame-Options`)

	for _, oas := range []string{"2.0", "3.0"} {
		first := e.must("", "export", "--group", "plugshop", "--draft", "--oas", oas)
		contains(t, "export "+oas, first, "x-apigateway-plugins:", "- cors_shop", "- shop_headers", "- shop_mirror", "type: proxy_mirror", "sample_ratio",
			"- shop_jwt", "type: jwt_auth", "https://idp.example.com/jwks", "X-User",
			"- shop_third", "type: third_auth", "auth.example.com")
		inst := "plug" + strings.ReplaceAll(oas, ".", "")
		e.must("kind: instance\nname: "+inst+"\n", "--instance", inst, "apply", "-f", "-")
		g := writeFile(t, t.TempDir(), "export.yaml", first)
		out := e.must("", "--instance", inst, "import", "-f", g)
		contains(t, "re-import "+oas, out, "plugin/cors_shop created", "plugin_binding/")
		second := e.must("", "--instance", inst, "export", "--group", "plugshop", "--draft", "--oas", oas)
		if first != second {
			t.Errorf("export → import → export (%s) differs:\nfirst:\n%s\nsecond:\n%s", oas, first, second)
		}
		// Into the same group again: nothing changes.
		out = e.must("", "--instance", inst, "import", "-f", g)
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasSuffix(l, "unchanged") {
				t.Errorf("%s: re-import changed: %s", oas, l)
			}
		}
	}
}

// An operation naming a plug-in that neither the document nor the
// instance has is refused at the list entry's JSON pointer; nothing is
// imported.
func TestImportRefusesAMissingPlugin(t *testing.T) {
	e := start(t)
	doc := strings.Replace(pluginsDoc, "[cors_shop, shop_headers, shop_mirror, shop_jwt, shop_third]", "[cors_shop, no_such_plugin]", 1)
	r := e.run("", "import", "-f", writeFile(t, t.TempDir(), "missing.yaml", doc))
	if r.code == 0 {
		t.Fatalf("import with a missing plug-in succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/paths/~1items/get/x-apigateway-plugins/1: plugin_id:", `plugin "no_such_plugin" does not exist`, "nothing was changed")
	if r := e.run("", "get", "group", "plugshop"); r.code == 0 {
		t.Errorf("the group was imported despite the refusal")
	}
	// A plug-in that exists on the instance may be referenced by name only,
	// as in APIG's exports.
	e.must("kind: plugin\nplugin_name: no_such_plugin\nplugin_type: set_resp_headers\nplugin_content: '{\"response_headers\":[{\"name\":\"X-A\",\"value\":\"1\",\"action\":\"add\"}]}'\n", "apply", "-f", "-")
	out := e.must("", "import", "-f", writeFile(t, t.TempDir(), "referenced.yaml", doc))
	if n := strings.Count(out, "plugin_binding/"); n != 2 {
		t.Errorf("import by reference: want 2 plug-in bindings created:\n%s", out)
	}
	contains(t, "bound by reference", e.must("", "get", "plugin_bindings", "--api", "list_items", "-o", "yaml"), "plugin_id: ")
}
