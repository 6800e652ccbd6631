package cli_test

import (
	"strings"
	"testing"
)

// breakerDoc defines a breaker plug-in at the root (its content as an
// object) and binds it to one API.
const breakerDoc = `swagger: "2.0"
info: {title: brkshop, version: "1.0"}
host: brk.example.com
x-apigateway-plugins:
  orders_breaker:
    type: breaker
    remark: degrade orders
    content:
      scope: basic
      breaker_condition:
        breaker_type: condition
        breaker_mode: percentage
        unhealthy_condition: '["OR",["$context.statusCode","in","500,502,503"],["$context.backendResponseTime",">",3000]]'
        min_call_threshold: 20
        unhealthy_percentage: 51
        time_window: 15
        open_breaker_time: 30
      downgrade_default:
        type: mock
        mock_info: {status_code: 200, result_content: '{"orders":[]}', headers: [{key: X-Degraded, value: "1"}]}
paths:
  /orders:
    get:
      operationId: list_orders
      responses: {default: {description: ok}}
      x-apigateway-plugins: [orders_breaker]
      x-apigateway-backend:
        type: HTTP
        httpEndpoints: {address: "10.0.0.9:8080", scheme: http, method: GET, path: /orders, timeout: 5000}
`

// A breaker plug-in survives import → export → import with its content.
func TestImportExportRoundTripWithBreaker(t *testing.T) {
	e := start(t)
	f := writeFile(t, t.TempDir(), "breaker.yaml", breakerDoc)
	out := e.must("", "import", "-f", f)
	contains(t, "import", out, "plugin/orders_breaker created", "plugin_binding/")
	contains(t, "stored", e.must("", "get", "plugin", "orders_breaker", "-o", "yaml"), "plugin_type: breaker", "unhealthy_percentage", "X-Degraded")
	for _, oas := range []string{"2.0", "3.0"} {
		first := e.must("", "export", "--group", "brkshop", "--draft", "--oas", oas)
		contains(t, "export "+oas, first, "x-apigateway-plugins:", "- orders_breaker", "type: breaker", "open_breaker_time", "backendResponseTime")
		inst := "brk" + strings.ReplaceAll(oas, ".", "")
		e.must("kind: instance\nname: "+inst+"\n", "--instance", inst, "apply", "-f", "-")
		g := writeFile(t, t.TempDir(), "export.yaml", first)
		contains(t, "re-import "+oas, e.must("", "--instance", inst, "import", "-f", g), "plugin/orders_breaker created", "plugin_binding/")
		if second := e.must("", "--instance", inst, "export", "--group", "brkshop", "--draft", "--oas", oas); first != second {
			t.Errorf("export → import → export (%s) differs:\nfirst:\n%s\nsecond:\n%s", oas, first, second)
		}
	}
}

// breakerDowngradesDoc is breakerDoc with rules downgrading to a load
// balance channel (by id), a function of the registry and a passthrough.
var breakerDowngradesDoc = strings.Replace(breakerDoc, `        mock_info: {status_code: 200, result_content: '{"orders":[]}', headers: [{key: X-Degraded, value: "1"}]}`,
	`        mock_info: {status_code: 200, result_content: '{"orders":[]}', headers: [{key: X-Degraded, value: "1"}]}
      downgrade_parameters:
        - {name: tier, type: header, value: X-Tier}
      downgrade_rules:
        - rule_name: to_pool
          match_regex: '["tier","==","pool"]'
          downgrade_backend:
            type: http_vpc
            http_vpc_info: {vpc_channel_id: chfallback, scheme: HTTP, method: GET, path: /orders/cached, timeout: 2000}
        - rule_name: to_fn
          match_regex: '["tier","==","fn"]'
          downgrade_backend:
            type: function
            func_info: {function_urn: "urn:fss:r:p:function:default:orders_fb", version: latest, invocation_type: sync, timeout: 3000}
        - rule_name: pass
          match_regex: '["tier","==","pass"]'
          downgrade_backend:
            type: passthrough
            passthrough_infos: [{key: X-Degraded, value: passthrough}]`, 1)

// The instance objects the downgrades of breakerDowngradesDoc name.
const breakerDowngradeTargets = `kind: vpc_channel
id: chfallback
name: orders_pool
port: 8080
members: [{host: 10.0.0.10}]
`

// A breaker with http_vpc, func and passthrough downgrades survives
// import → export → import with them; an instance without the channel is
// refused at its field.
func TestImportExportRoundTripWithBreakerDowngrades(t *testing.T) {
	e := start(t)
	const fn = "config:\n  functions: [{urn: \"urn:fss:r:p:function:default:orders_fb\", url: \"http://127.0.0.1:9/fb\"}]\n"
	f := writeFile(t, t.TempDir(), "breaker.yaml", breakerDowngradesDoc)
	e.must("kind: instance\nname: default\n"+fn, "apply", "-f", "-")
	r := e.run("", "import", "-f", f)
	if r.code == 0 {
		t.Fatalf("import without the downgrade's channel succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "plugin_content.downgrade_rules[0].downgrade_backend.http_vpc_info.vpc_channel_id", "does not exist")
	e.must(breakerDowngradeTargets, "apply", "-f", "-")
	contains(t, "import", e.must("", "import", "-f", f), "plugin/orders_breaker created")
	contains(t, "stored", e.must("", "get", "plugin", "orders_breaker", "-o", "yaml"), "http_vpc_info", "chfallback", "func_info", "orders_fb", "passthrough_infos")
	r = e.run("", "delete", "vpc_channel", "chfallback")
	if r.code == 0 {
		t.Fatalf("the channel of a breaker downgrade was deleted:\n%s", r.out)
	}
	contains(t, "channel in use", r.err, "plugin_content.downgrade_rules[0].downgrade_backend.http_vpc_info.vpc_channel_id")
	for _, oas := range []string{"2.0", "3.0"} {
		first := e.must("", "export", "--group", "brkshop", "--draft", "--oas", oas)
		contains(t, "export "+oas, first, `"type":"http_vpc"`, `"vpc_channel_id":"chfallback"`, `"type":"function"`,
			`"function_urn":"urn:fss:r:p:function:default:orders_fb"`, `"type":"passthrough"`, `"passthrough_infos":[{"key":"X-Degraded","value":"passthrough"}]`)
		inst := "brkdg" + strings.ReplaceAll(oas, ".", "")
		e.must("kind: instance\nname: "+inst+"\n"+fn, "--instance", inst, "apply", "-f", "-")
		e.must(breakerDowngradeTargets, "--instance", inst, "apply", "-f", "-")
		g := writeFile(t, t.TempDir(), "export.yaml", first)
		contains(t, "re-import "+oas, e.must("", "--instance", inst, "import", "-f", g), "plugin/orders_breaker created")
		if second := e.must("", "--instance", inst, "export", "--group", "brkshop", "--draft", "--oas", oas); first != second {
			t.Errorf("export → import → export (%s) differs:\nfirst:\n%s\nsecond:\n%s", oas, first, second)
		}
	}
}

// A breaker downgrade apigw does not know is refused by the import at
// its field, and nothing is imported.
func TestImportRefusesAnUnknownDowngrade(t *testing.T) {
	e := start(t)
	doc := strings.Replace(breakerDoc, `        type: mock
        mock_info: {status_code: 200, result_content: '{"orders":[]}', headers: [{key: X-Degraded, value: "1"}]}`,
		`        type: redirect`, 1)
	r := e.run("", "import", "-f", writeFile(t, t.TempDir(), "redirect.yaml", doc))
	if r.code == 0 {
		t.Fatalf("import of a redirect downgrade succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "plugin_content.downgrade_default.type", "must be one of mock, http, http_vpc", "nothing was changed")
	if r := e.run("", "get", "plugin", "orders_breaker"); r.code == 0 {
		t.Errorf("the plug-in was imported despite the refusal")
	}
}
