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

// Every proxy_cache plug-in is refused (plugin_type: Envoy's cache filter
// fetches misses outside the route), with its content's own violations
// (a status Envoy does not store, apps mode, a key selecting query
// parameters) each with its field path; nothing is imported.
func TestImportRefusesAnUnsupportedProxyCachePlugin(t *testing.T) {
	e := start(t)
	doc := strings.Replace(proxyCacheDoc, "http_status: [200, 203]", "http_status: [200, 202]", 1)
	doc = strings.Replace(doc, `mode: "off"`, `mode: apps`, 1)
	doc = strings.Replace(doc, "parameters: []", "parameters: [custom_param]", 1)
	r := e.run("", "import", "-f", writeFile(t, t.TempDir(), "bad.yaml", doc))
	if r.code == 0 {
		t.Fatalf("import of an unsupported proxy_cache plug-in succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/x-apigateway-plugins/shop_cache: plugin_type: proxy_cache plug-ins are not supported",
		"plugin_content.cache_http_status_and_ttl[0].http_status[1]", "plugin_content.client_cache_control.mode",
		"plugin_content.cache_key.parameters[0]", "whole query string", "nothing was changed")
	if out := e.must("", "get", "plugin"); strings.Contains(out, "shop_cache") {
		t.Errorf("a refused import created the plug-in:\n%s", out)
	}

	// The content Envoy's cache could key and time (Huawei's Terraform
	// example with a key header) is refused all the same.
	r = e.run("", "import", "-f", writeFile(t, t.TempDir(), "cache.yaml", proxyCacheDoc))
	if r.code == 0 {
		t.Fatalf("import of a proxy_cache plug-in succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/x-apigateway-plugins/shop_cache: plugin_type: proxy_cache plug-ins are not supported", "straight from the route's cluster", "nothing was changed")
	if strings.Contains(r.err, "plugin_content") {
		t.Errorf("the Terraform example's content has violations of its own:\n%s", r.err)
	}
	if out := e.must("", "get", "api"); strings.Contains(out, "list_items") {
		t.Errorf("a refused import created the API:\n%s", out)
	}

	post := strings.Replace(strings.Replace(proxyCacheDoc, "    get:", "    post:", 1), "method: GET", "method: POST", 1)
	r = e.run("", "import", "-f", writeFile(t, t.TempDir(), "post.yaml", post))
	if r.code == 0 {
		t.Fatalf("import binding proxy_cache to a POST API succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/paths/~1items/post/x-apigateway-plugins/0: api_id", "uses POST", "nothing was changed")
}
