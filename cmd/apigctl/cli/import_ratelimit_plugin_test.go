package cli_test

import (
	"strings"
	"testing"
)

// rateLimitDoc binds a rate_limit plug-in (Request Throttling 2.0) with
// specials, parameters and rules; its content is written as an object.
const rateLimitDoc = `swagger: "2.0"
info: {title: rlshop, version: "1.0"}
host: rl.example.com
x-apigateway-plugins:
  shop_rl:
    type: rate_limit
    content:
      scope: basic
      default_time_unit: minute
      default_interval: 1
      api_limit: 100
      user_limit: 50
      app_limit: 20
      ip_limit: -1
      algorithm: counter
      specials: [{type: app, policies: [{key: app-1, limit: 40}]}]
      parameters: [{type: method, name: method, value: method}, {type: header, name: Host, value: Host}]
      rules:
        - {rule_name: abc_gets, match_regex: '["AND",["Host","==","www.abc.com"],["method","==","GET"]]', limit: 10, interval: 10, time_unit: second}
paths:
  /items:
    get:
      operationId: list_items
      responses: {default: {description: ok}}
      x-apigateway-plugins: [shop_rl]
      x-apigateway-backend:
        type: HTTP
        httpEndpoints: {address: "10.0.0.9:8080", scheme: http, method: GET, path: /items, timeout: 5000}
`

// A rate_limit plug-in imports, binds, exports and imports again
// unchanged.
func TestImportExportRateLimitPlugin(t *testing.T) {
	e := start(t)
	f := writeFile(t, t.TempDir(), "rl.yaml", rateLimitDoc)
	out := e.must("", "import", "-f", f)
	contains(t, "import", out, "plugin/shop_rl created", "plugin_binding/")
	contains(t, "stored", e.must("", "get", "plugin", "shop_rl", "-o", "yaml"), "plugin_type: rate_limit", "abc_gets", `"api_limit":100`)
	for _, oas := range []string{"2.0", "3.0"} {
		first := e.must("", "export", "--group", "rlshop", "--draft", "--oas", oas)
		contains(t, "export "+oas, first, "x-apigateway-plugins:", "- shop_rl", "type: rate_limit", "abc_gets")
		inst := "rl" + strings.ReplaceAll(oas, ".", "")
		e.must("kind: instance\nname: "+inst+"\n", "--instance", inst, "apply", "-f", "-")
		out := e.must("", "--instance", inst, "import", "-f", writeFile(t, t.TempDir(), "export.yaml", first))
		contains(t, "re-import "+oas, out, "plugin/shop_rl created", "plugin_binding/")
		if second := e.must("", "--instance", inst, "export", "--group", "rlshop", "--draft", "--oas", oas); first != second {
			t.Errorf("export → import → export (%s) differs:\nfirst:\n%s\nsecond:\n%s", oas, first, second)
		}
	}
}

// A rule expression naming an undefined parameter, and a refused
// algorithm, are reported at the plug-in's pointer with the content's
// field path; nothing is imported.
func TestImportRefusesAnInvalidRateLimitPlugin(t *testing.T) {
	e := start(t)
	doc := strings.Replace(rateLimitDoc, `["method","==","GET"]`, `["verb","==","GET"]`, 1)
	doc = strings.Replace(doc, "algorithm: counter", "algorithm: local", 1)
	r := e.run("", "import", "-f", writeFile(t, t.TempDir(), "bad.yaml", doc))
	if r.code == 0 {
		t.Fatalf("import of an invalid rate_limit plug-in succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/x-apigateway-plugins/shop_rl", "plugin_content.rules[0].match_regex[2][0]", "plugin_content.algorithm", "nothing was changed")
}
