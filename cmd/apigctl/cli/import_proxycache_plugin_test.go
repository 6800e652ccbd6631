package cli_test

import (
	"strings"
	"testing"
)

// proxyCacheDoc binds a proxy_cache plug-in whose content is Huawei's
// Terraform example (with statuses Envoy can cache, and a header instead of
// its query parameter in the key), written as an object.
const proxyCacheDoc = `swagger: "2.0"
info: {title: cacheshop, version: "1.0"}
host: cache.example.com
x-apigateway-plugins:
  shop_cache:
    type: proxy_cache
    content:
      cache_key: {system_params: [], parameters: [], headers: [X-Tenant]}
      cache_http_status_and_ttl: [{http_status: [200, 203], ttl: 5}]
      client_cache_control: {mode: "off", datas: []}
      cacheable_headers: [X-Custom-Header]
paths:
  /items:
    get:
      operationId: list_items
      responses: {default: {description: ok}}
      x-apigateway-plugins: [shop_cache]
      x-apigateway-backend:
        type: HTTP
        httpEndpoints: {address: "10.0.0.9:8080", scheme: http, method: GET, path: /items, timeout: 5000}
`

// A proxy_cache plug-in imports, binds, exports and imports again
// unchanged.
func TestImportExportProxyCachePlugin(t *testing.T) {
	e := start(t)
	out := e.must("", "import", "-f", writeFile(t, t.TempDir(), "cache.yaml", proxyCacheDoc))
	contains(t, "import", out, "plugin/shop_cache created", "plugin_binding/")
	contains(t, "stored", e.must("", "get", "plugin", "shop_cache", "-o", "yaml"), "plugin_type: proxy_cache", "X-Tenant", `"ttl":5`)
	for _, oas := range []string{"2.0", "3.0"} {
		first := e.must("", "export", "--group", "cacheshop", "--draft", "--oas", oas)
		contains(t, "export "+oas, first, "x-apigateway-plugins:", "- shop_cache", "type: proxy_cache", "X-Tenant")
		inst := "pc" + strings.ReplaceAll(oas, ".", "")
		e.must("kind: instance\nname: "+inst+"\n", "--instance", inst, "apply", "-f", "-")
		out := e.must("", "--instance", inst, "import", "-f", writeFile(t, t.TempDir(), "export.yaml", first))
		contains(t, "re-import "+oas, out, "plugin/shop_cache created", "plugin_binding/")
		if second := e.must("", "--instance", inst, "export", "--group", "cacheshop", "--draft", "--oas", oas); first != second {
			t.Errorf("export → import → export (%s) differs:\nfirst:\n%s\nsecond:\n%s", oas, first, second)
		}
	}
}

// Content Envoy cannot serve is refused with its field path (a status
// Envoy does not store, apps mode, a key selecting query parameters), and
// a proxy_cache plug-in cannot be bound to a POST operation; nothing is
// imported.
func TestImportRefusesAnUnsupportedProxyCachePlugin(t *testing.T) {
	e := start(t)
	doc := strings.Replace(proxyCacheDoc, "http_status: [200, 203]", "http_status: [200, 202]", 1)
	doc = strings.Replace(doc, `mode: "off"`, `mode: apps`, 1)
	doc = strings.Replace(doc, "parameters: []", "parameters: [custom_param]", 1)
	r := e.run("", "import", "-f", writeFile(t, t.TempDir(), "bad.yaml", doc))
	if r.code == 0 {
		t.Fatalf("import of an unsupported proxy_cache plug-in succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/x-apigateway-plugins/shop_cache", "plugin_content.cache_http_status_and_ttl[0].http_status[1]", "plugin_content.client_cache_control.mode",
		"plugin_content.cache_key.parameters[0]", "whole query string", "nothing was changed")
	if out := e.must("", "get", "plugin"); strings.Contains(out, "shop_cache") {
		t.Errorf("a refused import created the plug-in:\n%s", out)
	}

	post := strings.Replace(strings.Replace(proxyCacheDoc, "    get:", "    post:", 1), "method: GET", "method: POST", 1)
	r = e.run("", "import", "-f", writeFile(t, t.TempDir(), "post.yaml", post))
	if r.code == 0 {
		t.Fatalf("import binding proxy_cache to a POST API succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/paths/~1items/post/x-apigateway-plugins/0: api_id", "uses POST", "nothing was changed")
}
