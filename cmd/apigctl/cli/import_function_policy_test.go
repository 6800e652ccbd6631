package cli_test

import (
	"strings"
	"testing"
)

// fnPolicyDoc has a FUNCTION default backend and a FUNCTION policy
// backend (APIG's x-apigateway-backend-policies entry of type FUNCTION).
const fnPolicyDoc = `swagger: "2.0"
info: {title: fnpol_group, version: "1.0"}
paths:
  /orders:
    post:
      operationId: fn_orders
      parameters:
        - {name: tier, in: query, type: string}
      responses: {default: {description: ok}}
      x-apigateway-backend:
        type: FUNCTION
        functionEndpoints: {function-urn: 'urn:fss:cn-north-4:p1:function:default:f1', invocation-type: synchronous, network-type: V2, timeout: 5000}
      x-apigateway-backend-policies:
        - name: gold
          type: FUNCTION
          effectMode: ANY
          conditions: [{origin: param, parameter: tier, type: exact, value: gold}]
          parameters:
            - {name: X-Channel, in: HEADER, origin: CONSTANT, value: gold}
          functionEndpoints: {function-urn: 'urn:fss:cn-north-4:p1:function:default:f2', alias-urn: 'urn:fss:cn-north-4:p1:function:default:f2:!gold', invocation-type: asynchronous, network-type: V2, timeout: 3000}
`

const fnPolicyRegistry = `kind: instance
name: %s
config:
  functions:
  - {urn: "urn:fss:cn-north-4:p1:function:default:f1", url: "http://127.0.0.1:1/f1"}
  - {urn: "urn:fss:cn-north-4:p1:function:default:f2:!gold", url: "http://127.0.0.1:1/f2"}
`

// A FUNCTION policy backend imports as policy_functions, refused with
// its field path (changing nothing) while the registry does not serve its
// function, and survives import → export → import in both OpenAPI
// versions.
func TestImportExportRoundTripWithFunctionPolicies(t *testing.T) {
	e := start(t)
	e.must(`kind: instance
name: default
config:
  functions:
  - {urn: "urn:fss:cn-north-4:p1:function:default:f1", url: "http://127.0.0.1:1/f1"}
`, "apply", "-f", "-")
	f := writeFile(t, t.TempDir(), "fnpol.yaml", fnPolicyDoc)
	r := e.run("", "import", "-f", f)
	if r.code == 0 {
		t.Fatalf("import of a policy whose function the registry lacks succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "policy_functions[0].function_urn", "not in the instance's function registry", "nothing was changed")
	e.must(strings.Replace(fnPolicyRegistry, "%s", "default", 1), "apply", "-f", "-")
	e.must("", "import", "-f", f)
	contains(t, "imported API", e.must("", "get", "api", "fn_orders", "-o", "yaml"), "policy_functions:", "name: gold",
		"function_urn: urn:fss:cn-north-4:p1:function:default:f2", "alias_urn: urn:fss:cn-north-4:p1:function:default:f2:!gold", "invocation_type: async", "timeout: 3000",
		"condition_value: gold", "name: X-Channel")

	for _, oas := range []string{"2.0", "3.0"} {
		first := e.must("", "export", "--group", "fnpol_group", "--draft", "--oas", oas)
		contains(t, "export "+oas, first, "x-apigateway-backend-policies:", "type: FUNCTION", "functionEndpoints:", "function-urn: urn:fss:cn-north-4:p1:function:default:f2",
			"alias-urn: urn:fss:cn-north-4:p1:function:default:f2:!gold", "invocation-type: async")
		inst := "fnpol" + strings.ReplaceAll(oas, ".", "")
		e.must(strings.Replace(fnPolicyRegistry, "%s", inst, 1), "--instance", inst, "apply", "-f", "-")
		e.must("", "--instance", inst, "import", "-f", writeFile(t, t.TempDir(), "export.yaml", first))
		second := e.must("", "--instance", inst, "export", "--group", "fnpol_group", "--draft", "--oas", oas)
		if first != second {
			t.Errorf("export → import → export (%s) differs:\nfirst:\n%s\nsecond:\n%s", oas, first, second)
		}
	}
}
