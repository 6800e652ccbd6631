package openapi_test

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/openapi"
)

const okBackend = `{type: MOCK, mockEndpoints: {result-content: ok}}`

func swagger(paths, rest string) string {
	return "swagger: '2.0'\ninfo: {title: g1, version: '1'}\npaths:\n" + paths + rest
}

// TestInvalidExtensionsAreRefusedWithTheirPointer feeds one malformed
// construct of each kind and expects the JSON pointer of the offending node.
func TestInvalidExtensionsAreRefusedWithTheirPointer(t *testing.T) {
	tests := []struct {
		name, doc, ptr, msg string
	}{
		{"backend missing", swagger("  /a:\n    get: {operationId: a1}\n", ""), "/paths/~1a/get", "x-apigateway-backend is required"},
		{"backend not an object", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: [1]}\n", ""), "/paths/~1a/get/x-apigateway-backend", "must be an object"},
		{"backend type", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: {type: GRPC}}\n", ""), "/paths/~1a/get/x-apigateway-backend/type", "must be one of HTTP, HTTP-VPC"},
		{"endpoints missing", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: {type: HTTP}}\n", ""), "/paths/~1a/get/x-apigateway-backend", "httpEndpoints is required"},
		{"timeout not a number", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: {type: HTTP, httpEndpoints: {address: a.example.com, scheme: http, method: GET, path: /, timeout: soon}}}\n", ""),
			"/paths/~1a/get/x-apigateway-backend/httpEndpoints/timeout", "must be an integer"},
		{"timeout out of range", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: {type: HTTP, httpEndpoints: {address: a.example.com, scheme: http, method: GET, path: /, timeout: 700000}}}\n", ""),
			"/paths/~1a/get/x-apigateway-backend/httpEndpoints/timeout", "backend_api.timeout: must be between 1 and 60000"},
		{"scheme", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: {type: HTTP, httpEndpoints: {address: a.example.com, scheme: ftp, method: GET, path: /}}}\n", ""),
			"/paths/~1a/get/x-apigateway-backend/httpEndpoints/scheme", "must be one of HTTP, HTTPS"},
		{"backend parameter origin", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: {type: MOCK, parameters: [{name: x, value: y, in: header, origin: MAGIC}], mockEndpoints: {result-content: ok}}}\n", ""),
			"/paths/~1a/get/x-apigateway-backend/parameters/0/origin", "must be one of REQUEST, CONSTANT, SYSTEM"},
		{"policy type mismatch", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+", x-apigateway-backend-policies: [{name: p1x, type: HTTP, httpEndpoints: {address: b.example.com, scheme: http, method: GET, path: /}, conditions: [{type: equal, origin: source, value: 10.0.0.1}]}]}\n", ""),
			"/paths/~1a/get/x-apigateway-backend-policies/0/type", "cannot go with a MOCK default backend"},
		{"condition origin", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+", x-apigateway-backend-policies: [{name: p1x, type: MOCK, mockEndpoints: {result-content: x}, conditions: [{type: equal, origin: moon, value: x}]}]}\n", ""),
			"/paths/~1a/get/x-apigateway-backend-policies/0/conditions/0/origin", "must be request (param), source"},
		{"ratelimit limit", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+"}\n", "x-apigateway-ratelimits:\n  rl1x: {api-limit: lots, interval: 1, unit: MINUTE}\n"),
			"/x-apigateway-ratelimits/rl1x/api-limit", "must be an integer"},
		{"ratelimit unit", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+"}\n", "x-apigateway-ratelimits:\n  rl1x: {api-limit: 5, interval: 1, unit: WEEK}\n"),
			"/x-apigateway-ratelimits/rl1x/unit", "must be one of SECOND, MINUTE, HOUR, DAY"},
		{"acl type", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+"}\n", "x-apigateway-access-controls:\n  acl1: {acl-type: MAYBE, value: 10.0.0.1}\n"),
			"/x-apigateway-access-controls/acl1/acl-type", "must be one of PERMIT, DENY"},
		{"acl value", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+"}\n", "x-apigateway-access-controls:\n  acl1: {acl-type: DENY, value: not-an-ip}\n"),
			"/x-apigateway-access-controls/acl1/value", "acl_value"},
		{"response type", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+"}\n", "x-apigateway-responses:\n  strict: {TEAPOT: {status: 418}}\n"),
			"/x-apigateway-responses/strict/TEAPOT", "unknown gateway response type"},
		{"unknown security scheme", swagger("  /a:\n    get: {operationId: a1, security: [{nope: []}], x-apigateway-backend: "+okBackend+"}\n", ""),
			"/paths/~1a/get/security/0/nope", "names no security scheme"},
		{"unenforceable security", swagger("  /a:\n    get: {operationId: a1, security: [{basic: []}], x-apigateway-backend: "+okBackend+"}\n", "securityDefinitions:\n  basic: {type: basic}\n"),
			"/securityDefinitions/basic", "apigw cannot enforce it"},
		{"authorizer uri", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+"}\n", "securityDefinitions:\n  az1:\n    type: apiKey\n    in: header\n    name: x\n    x-apigateway-authorizer: {type: FRONTEND}\n"),
			"/securityDefinitions/az1/x-apigateway-authorizer", "authorizer_uri is required"},
		{"pass-through", swagger("  /a/{id}:\n    get:\n      operationId: a1\n      parameters: [{name: id, in: path, required: true, type: string, x-apigateway-pass-through: sometimes}]\n      x-apigateway-backend: "+okBackend+"\n", ""),
			"/paths/~1a~1{id}/get/parameters/0/x-apigateway-pass-through", "must be one of always, never"},
		{"duplicate operationId", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+"}\n  /b:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+"}\n", ""),
			"/paths/~1b/get", `operationId "a1" is already used by /paths/~1a/get`},
		{"bad path", swagger("  a:\n    get: {operationId: a1, x-apigateway-backend: "+okBackend+"}\n", ""), "/paths/a", "req_uri"},
		{"backend client certificate over HTTP", swagger("  /a:\n    get: {operationId: a1, x-apigateway-backend: {type: HTTP, httpEndpoints: {address: a.example.com, scheme: http, method: GET, path: /, enableClientSsl: true}}}\n", ""),
			"/paths/~1a/get/x-apigateway-backend/httpEndpoints/enableClientSsl", "backend_api.enable_client_ssl: needs req_protocol HTTPS"},
		{"oas3 match mode", "openapi: 3.0.0\ninfo: {title: g1, version: '1'}\npaths:\n  /a:\n    get:\n      operationId: a1\n      responses: {default: {description: x}}\n      x-apigateway-match-mode: FUZZY\n      x-apigateway-backend: " + okBackend + "\n",
			"/paths/~1a/get/x-apigateway-match-mode", "must be one of NORMAL, SWA"},
		{"oas3 components ratelimit", "openapi: 3.1.0\ninfo: {title: g1, version: '1'}\npaths: {}\ncomponents:\n  x-apigateway-ratelimits:\n    rl1x: {api-limit: 5, unit: MINUTE}\n",
			"/components/x-apigateway-ratelimits/rl1x", "interval is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps, err := openapi.Convert([]byte(tt.doc))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			for _, p := range ps.Errors {
				if p.Pointer == tt.ptr && strings.Contains(p.Message, tt.msg) {
					return
				}
			}
			t.Errorf("no error %q at %s; got %v", tt.msg, tt.ptr, ps.Errors)
		})
	}
}

func TestUnparseableDocumentsAreRefused(t *testing.T) {
	tests := []struct{ name, doc, msg string }{
		{"not yaml", "swagger: [unclosed", "not YAML or JSON"},
		{"not openapi", "kind: api\nname: x\n", "not an OpenAPI document"},
		{"swagger 1.2", "swagger: '1.2'\n", "only Swagger 2.0"},
		{"openapi 4", "openapi: 4.0.0\n", "OpenAPI 3.0 and 3.1"},
		{"bad parameter ref", swagger("  /a:\n    get:\n      operationId: a1\n      parameters: [{$ref: '#/parameters/missing'}]\n", ""), "names no parameter"},
		{"oas3 bad ref", "openapi: 3.0.0\ninfo: {title: g, version: '1'}\npaths:\n  /a:\n    get:\n      parameters: [{$ref: '#/components/parameters/missing'}]\n      responses: {default: {description: x}}\n", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := openapi.Convert([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want an error with %q", err, tt.msg)
			}
		})
	}
}

func TestUnknownExtensionsAreWarned(t *testing.T) {
	doc := swagger("  /a:\n    get:\n      operationId: a11\n      x-apigateway-teleport: true\n      x-vendor-thing: 1\n      x-apigateway-backend: {type: MOCK, mockEndpoints: {result-content: ok, colour: red}}\n", "x-apigateway-magic: {}\n")
	_, ps, err := openapi.Convert([]byte(doc))
	if err != nil || len(ps.Errors) > 0 {
		t.Fatalf("%v %v", err, ps.Errors)
	}
	want := []string{"/paths/~1a/get/x-apigateway-teleport", "/paths/~1a/get/x-apigateway-backend/mockEndpoints/colour", "/x-apigateway-magic"}
	for _, w := range want {
		found := false
		for _, p := range ps.Warnings {
			found = found || p.Pointer == w
		}
		if !found {
			t.Errorf("no warning at %s: %v", w, ps.Warnings)
		}
	}
	for _, p := range ps.Warnings {
		if strings.Contains(p.Pointer, "x-vendor-thing") {
			t.Errorf("other vendors' extensions are not ours to warn about: %v", p)
		}
	}
}

// A FUNCTION backend and a function custom authorizer (authorizer_uri a
// FunctionGraph URN) convert without errors: whether the instance's
// function registry serves their URNs is checked by the admin API at
// import time.
func TestFunctionBackendAndAuthorizerConvert(t *testing.T) {
	const urn = "urn:fss:cn-north-4:p1:function:default:"
	doc := swagger("  /a:\n    get: {operationId: call_fn, security: [{fn_auth: []}], x-apigateway-backend: {type: FUNCTION, functionEndpoints: {function-urn: '"+urn+"f1', invocation-type: synchronous, network-type: V2, timeout: 5000}}}\n",
		"securityDefinitions:\n  fn_auth:\n    type: apiKey\n    in: header\n    name: X-Token\n    x-apigateway-authorizer: {type: FRONTEND, authorizer_type: FUNC, authorizer_uri: '"+urn+"authz', authorizer_version: v1, identities: [{name: X-Token, location: HEADER}]}\n")
	plan, ps, err := openapi.Convert([]byte(doc))
	if err != nil || len(ps.Errors) > 0 {
		t.Fatalf("%v %v", err, ps.Errors)
	}
	if len(plan.Authorizers) != 1 || plan.Authorizers[0].Msg.AuthorizerUri != urn+"authz" || plan.Authorizers[0].Msg.AuthorizerVersion != "v1" {
		t.Errorf("authorizers %v", plan.Authorizers)
	}
	if len(plan.APIs) != 1 || plan.APIs[0].API.BackendType != "FUNCTION" || plan.APIs[0].API.AuthType != "AUTHORIZER" || plan.APIs[0].API.GetFuncInfo().GetFunctionUrn() != urn+"f1" {
		t.Errorf("APIs %v", plan.APIs)
	}
}
