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

// A breaker with a downgrade apigw does not implement is refused by the
// import at its field, and nothing is imported.
func TestImportRefusesAnHTTPDowngrade(t *testing.T) {
	e := start(t)
	doc := strings.Replace(breakerDoc, `        type: mock
        mock_info: {status_code: 200, result_content: '{"orders":[]}', headers: [{key: X-Degraded, value: "1"}]}`,
		`        type: http_vpc`, 1)
	r := e.run("", "import", "-f", writeFile(t, t.TempDir(), "vpc.yaml", doc))
	if r.code == 0 {
		t.Fatalf("import of an http_vpc downgrade succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "plugin_content.downgrade_default.type", "VPC channel is not supported", "nothing was changed")
	if r := e.run("", "get", "plugin", "orders_breaker"); r.code == 0 {
		t.Errorf("the plug-in was imported despite the refusal")
	}
}
