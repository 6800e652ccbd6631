package cli_test

import (
	"strings"
	"testing"
)

const fnAuthDoc = `swagger: "2.0"
info: {title: fn_group, version: "1.0"}
securityDefinitions:
  fn_auth:
    type: apiKey
    in: header
    name: X-Token
    x-apigateway-auth-type: AUTHORIZER
    x-apigateway-authorizer:
      type: FRONTEND
      authorizer_type: FUNC
      authorizer_uri: urn:fss:cn-north-4:p1:function:default:authz
      authorizer_alias_uri: urn:fss:cn-north-4:p1:function:default:authz:!live
      identities:
        - {name: X-Token, location: HEADER}
paths:
  /fn:
    get:
      operationId: call_fn
      security: [{fn_auth: []}]
      responses: {default: {description: ok}}
      x-apigateway-backend:
        type: FUNCTION
        functionEndpoints: {function-urn: 'urn:fss:cn-north-4:p1:function:default:f1', invocation-type: synchronous, network-type: V2, timeout: 5000}
`

// An OpenAPI document with a function custom authorizer (authorizer_uri a
// FunctionGraph URN) and a FUNCTION backend is refused, changing nothing,
// while the instance's function registry does not serve the URNs, and
// imported once it does; the export names the URN again.
func TestImportFunctionAuthorizer(t *testing.T) {
	e := start(t)
	f := writeFile(t, t.TempDir(), "fn.yaml", fnAuthDoc)
	r := e.run("", "import", "-f", f)
	if r.code == 0 {
		t.Fatalf("import without a function registry succeeded:\n%s", r.out)
	}
	contains(t, "refusal", r.err, "/securityDefinitions/fn_auth/x-apigateway-authorizer", "authorizer_uri", "not in the instance's function registry", "nothing was changed")
	if out := e.must("", "get", "groups", "-o", "name"); strings.Contains(out, "fn_group") {
		t.Errorf("a refused import created the group")
	}
	e.must(`kind: instance
name: default
config:
  functions:
  - {urn: "urn:fss:cn-north-4:p1:function:default:authz:!live", url: "http://127.0.0.1:1/authz", authorization: "Bearer k"}
  - {urn: "urn:fss:cn-north-4:p1:function:default:f1", url: "http://127.0.0.1:1/f1"}
`, "apply", "-f", "-")
	r = e.run("", "import", "-f", f)
	if r.code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	contains(t, "import", r.out, "authorizer/fn_auth created", "api/call_fn created")
	contains(t, "authorizer", e.must("", "get", "authorizer", "fn_auth", "-o", "yaml"), "authorizer_uri: urn:fss:cn-north-4:p1:function:default:authz", "authorizer_alias_uri:")
	contains(t, "export", e.must("", "export", "--group", "fn_group", "--draft"), "x-apigateway-authorizer", "authorizer_uri: urn:fss:cn-north-4:p1:function:default:authz", "function-urn")
}
