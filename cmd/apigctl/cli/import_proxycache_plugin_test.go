package cli_test

import (
	"strings"
	"testing"
)

// proxyCacheDoc binds a proxy_cache plug-in whose content is Huawei's
// Terraform example (its key selecting the query parameter custom_param,
// plus a header), written as an object.
const proxyCacheDoc = `swagger: "2.0"
info: {title: cacheshop, version: "1.0"}
host: cache.example.com
x-apigateway-plugins:
  shop_cache:
    type: proxy_cache
    content:
      cache_key: {system_params: [], parameters: [custom_param], headers: [X-Tenant]}
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

// A proxy_cache plug-in is imported and bound (its key's query
// parameters included). Content apigw's cache cannot honour (a status it
// does not store, apps mode, the caller's app in the key) is refused with
// each field path, and nothing is imported; so is binding it to a POST
// API.
func TestImportProxyCachePlugin(t *testing.T) {
	e := start(t)
	doc := strings.Replace(proxyCacheDoc, "http_status: [200, 203]", "http_status: [200, 202]", 1)
	doc = strings.Replace(doc, `mode: "off"`, `mode: apps`, 1)
	doc = strings.Replace(doc, "system_params: []", "system_params: [$context.appId]", 1)
	r := e.run("", "import", "-f", writeFile(t, t.TempDir(), "bad.yaml", doc))
	if r.code == 0 {
		t.Fatalf("import of an unsupported proxy_cache plug-in succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/x-apigateway-plugins/shop_cache: plugin_content.cache_http_status_and_ttl[0].http_status[1]",
		"plugin_content.client_cache_control.mode", "plugin_content.cache_key.system_params[0]", "nothing was changed")
	if strings.Contains(r.err, "plugin_type") || strings.Contains(r.err, "parameters[0]") {
		t.Errorf("refused for the type or the query parameter:\n%s", r.err)
	}
	if out := e.must("", "get", "plugin"); strings.Contains(out, "shop_cache") {
		t.Errorf("a refused import created the plug-in:\n%s", out)
	}

	post := strings.Replace(strings.Replace(proxyCacheDoc, "    get:", "    post:", 1), "method: GET", "method: POST", 1)
	r = e.run("", "import", "-f", writeFile(t, t.TempDir(), "post.yaml", post))
	if r.code == 0 {
		t.Fatalf("import binding proxy_cache to a POST API succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/paths/~1items/post/x-apigateway-plugins/0: api_id", "uses POST", "nothing was changed")

	r = e.run("", "import", "-f", writeFile(t, t.TempDir(), "cache.yaml", proxyCacheDoc))
	if r.code != 0 {
		t.Fatalf("import of a proxy_cache plug-in failed:\n%s\n%s", r.out, r.err)
	}
	if out := e.must("", "describe", "plugin", "shop_cache"); !strings.Contains(out, "custom_param") || !strings.Contains(out, "proxy_cache") {
		t.Errorf("imported plug-in:\n%s", out)
	}
	if out := e.must("", "get", "plugin_bindings", "--api", "list_items"); len(strings.Split(strings.TrimSpace(out), "\n")) != 2 || !strings.Contains(out, "DEFAULT_ENVIRONMENT_RELEASE_ID") {
		t.Errorf("binding not imported:\n%s", out)
	}
}

// A proxy_cache plug-in survives import → export → import: exported with
// its content and binding (OpenAPI 2.0 and 3.0), re-imported unchanged
// into the same instance, and created again in another one.
func TestImportExportProxyCachePlugin(t *testing.T) {
	e := start(t)
	e.must("", "import", "-f", writeFile(t, t.TempDir(), "cache.yaml", proxyCacheDoc))
	for i, oas := range []string{"2.0", "3.0"} {
		out := e.must("", "export", "--group", "cacheshop", "--draft", "--oas", oas)
		contains(t, "export "+oas, out, "type: proxy_cache", "- shop_cache", "custom_param", "X-Tenant", "X-Custom-Header")
		f := writeFile(t, t.TempDir(), "export.yaml", out)
		for _, l := range strings.Split(strings.TrimSpace(e.must("", "import", "-f", f)), "\n") {
			if !strings.HasSuffix(l, "unchanged") {
				t.Errorf("re-import of the %s export changed: %s", oas, l)
			}
		}
		inst := []string{"cache2", "cache3"}[i]
		e.must("kind: instance\nname: "+inst+"\n", "--instance", inst, "apply", "-f", "-")
		e.must("", "--instance", inst, "import", "-f", f)
		stored := e.must("", "--instance", inst, "get", "plugin", "shop_cache", "-o", "yaml")
		contains(t, "imported elsewhere from "+oas, stored, "plugin_type: proxy_cache", "custom_param", "X-Tenant")
		if out := e.must("", "--instance", inst, "get", "plugin_bindings", "--api", "list_items"); !strings.Contains(out, "DEFAULT_ENVIRONMENT_RELEASE_ID") {
			t.Errorf("binding not imported elsewhere from %s:\n%s", oas, out)
		}
	}
}
