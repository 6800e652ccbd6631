package openapi_test

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/openapi"
)

func convertOK(t *testing.T, doc string) (*openapi.Plan, *openapi.Problems) {
	t.Helper()
	plan, ps, err := openapi.Convert([]byte(doc))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(ps.Errors) > 0 {
		t.Fatalf("refused: %v", ps.Errors)
	}
	return plan, ps
}

// Result samples are read from every place APIG exports put them: inside
// the default response, beside its $ref, in the shared response it refers
// to, and as keys of the operation's responses object beside
// `default: {$ref}` (Swagger 2.0 and OpenAPI 3.x).
func TestResultSamplesAreReadFromEveryPlaceAPIGExportsThem(t *testing.T) {
	const normal, failure = `{"id":1}`, `{"error":"x"}`
	samples := "x-apigateway-result-normal-sample: '" + normal + "'\n        x-apigateway-result-failure-sample: '" + failure + "'\n"
	op := func(responses string) string {
		return "  /a:\n    get:\n      operationId: aaa1\n      responses:\n" + responses + "      x-apigateway-backend: " + okBackend + "\n"
	}
	tests := []struct{ name, doc string }{
		{"2.0 inside default", swagger(op("        default:\n          description: ok\n          "+strings.ReplaceAll(samples, "\n        ", "\n          ")), "")},
		{"2.0 beside $ref inside default", swagger(op("        default:\n          $ref: '#/responses/default'\n          "+strings.ReplaceAll(samples, "\n        ", "\n          ")), "responses:\n  default: {description: x}\n")},
		{"2.0 keys of responses", swagger(op("        default: {$ref: '#/responses/default'}\n        "+samples), "responses:\n  default: {description: x}\n")},
		{"2.0 shared response", swagger(op("        default: {$ref: '#/responses/default'}\n"), "responses:\n  default:\n    description: x\n    "+strings.ReplaceAll(samples, "\n        ", "\n    "))},
		{"3.0 keys of responses", "openapi: 3.0.3\ninfo: {title: g1, version: '1'}\npaths:\n" + op("        default: {description: ok}\n        "+samples)},
		{"3.0 inside default", "openapi: 3.0.3\ninfo: {title: g1, version: '1'}\npaths:\n" + op("        default:\n          description: ok\n          "+strings.ReplaceAll(samples, "\n        ", "\n          "))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, _ := convertOK(t, tt.doc)
			a := plan.APIs[0].API
			if a.ResultNormalSample != normal || a.ResultFailureSample != failure {
				t.Errorf("samples: normal %q failure %q\n%s", a.ResultNormalSample, a.ResultFailureSample, tt.doc)
			}
		})
	}
}

// Two different samples of the same kind: the first is kept and the other
// is named in a warning, never dropped silently.
func TestConflictingResultSamplesAreWarned(t *testing.T) {
	doc := swagger("  /a:\n    get:\n      operationId: aaa1\n      responses:\n        default:\n          description: ok\n          x-apigateway-result-normal-sample: one\n        x-apigateway-result-normal-sample: two\n      x-apigateway-backend: "+okBackend+"\n", "")
	plan, ps := convertOK(t, doc)
	if got := plan.APIs[0].API.ResultNormalSample; got != "two" {
		t.Errorf("sample %q, want the responses object's (read first)", got)
	}
	for _, w := range ps.Warnings {
		if w.Pointer == "/paths/~1a/get/responses/default/x-apigateway-result-normal-sample" {
			return
		}
	}
	t.Errorf("no warning for the ignored sample: %v", ps.Warnings)
}

// A decimal or out-of-range minimum/maximum of a number parameter cannot be
// kept by apigw's (and APIG's) integer bounds: it is refused at its own
// node, never truncated. Whole values and the 0 placeholders of APIG
// exports are kept as before.
func TestNumberParameterBoundsAreKeptOrRefusedNeverTruncated(t *testing.T) {
	param := func(bounds string) string {
		return "  /a:\n    get:\n      operationId: aaa1\n      parameters:\n      - {name: size, in: query, type: number, " + bounds + "}\n      x-apigateway-backend: " + okBackend + "\n"
	}
	v3 := func(bounds string) string {
		return "openapi: 3.0.3\ninfo: {title: g1, version: '1'}\npaths:\n  /a:\n    get:\n      operationId: aaa1\n      parameters:\n      - {name: size, in: query, schema: {type: number, " + bounds + "}}\n      responses: {default: {description: ok}}\n      x-apigateway-backend: " + okBackend + "\n"
	}
	refused := []struct{ name, doc, ptr string }{
		{"2.0 decimal maximum", swagger(param("minimum: 1, maximum: 99.5"), ""), "/paths/~1a/get/parameters/0/maximum"},
		{"2.0 decimal minimum", swagger(param("minimum: 0.25"), ""), "/paths/~1a/get/parameters/0/minimum"},
		{"2.0 beyond int32", swagger(param("maximum: 1e12"), ""), "/paths/~1a/get/parameters/0/maximum"},
		{"2.0 shared parameter", swagger("  /a:\n    get:\n      operationId: aaa1\n      parameters: [{$ref: '#/parameters/size'}]\n      x-apigateway-backend: "+okBackend+"\n",
			"parameters:\n  size: {name: size, in: query, type: number, maximum: 2.5}\n"), "/parameters/size/maximum"},
		{"3.0 decimal maximum", v3("maximum: 2.5"), "/paths/~1a/get/parameters/0/schema/maximum"},
		{"2.0 maxLength beyond int32", swagger("  /a:\n    get:\n      operationId: aaa1\n      parameters:\n      - {name: s, in: query, type: string, maxLength: 4294967297}\n      x-apigateway-backend: "+okBackend+"\n", ""),
			"/paths/~1a/get/parameters/0/maxLength"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, ps, err := openapi.Convert([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps.Errors {
				if p.Pointer == tt.ptr && (strings.Contains(p.Message, "integer") || strings.Contains(p.Message, "at most")) {
					return
				}
			}
			t.Errorf("no error at %s: %v", tt.ptr, ps.Errors)
		})
	}
	plan, _ := convertOK(t, swagger(param("minimum: -5, maximum: 100.0"), ""))
	rp := plan.APIs[0].API.ReqParams[0]
	if rp.MinNum == nil || *rp.MinNum != -5 || rp.MaxNum == nil || *rp.MaxNum != 100 {
		t.Errorf("whole bounds: %v", rp)
	}
	plan, _ = convertOK(t, swagger(param("minimum: 0, maximum: 0"), ""))
	if rp := plan.APIs[0].API.ReqParams[0]; rp.MinNum != nil || rp.MaxNum != nil {
		t.Errorf("0 placeholders of APIG exports are unset: %v", rp)
	}
}

// timeout: 0 is not "unset": APIG's range starts at 1, so it is refused at
// its node (HTTP, HTTP-VPC, FUNCTION and policy backends alike).
func TestZeroBackendTimeoutIsRefused(t *testing.T) {
	op := func(ext string) string {
		return swagger("  /a:\n    get:\n      operationId: aaa1\n"+ext, "")
	}
	tests := []struct{ name, doc, ptr string }{
		{"http", op("      x-apigateway-backend: {type: HTTP, httpEndpoints: {address: a.example.com, scheme: HTTP, method: GET, path: /, timeout: 0}}\n"),
			"/paths/~1a/get/x-apigateway-backend/httpEndpoints/timeout"},
		{"http string", op("      x-apigateway-backend: {type: HTTP, httpEndpoints: {address: a.example.com, scheme: HTTP, method: GET, path: /, timeout: '0'}}\n"),
			"/paths/~1a/get/x-apigateway-backend/httpEndpoints/timeout"},
		{"function", op("      x-apigateway-backend: {type: FUNCTION, functionEndpoints: {function-urn: 'urn:fss:r:p:function:default:f', version: latest, invocation-type: sync, timeout: 0}}\n"),
			"/paths/~1a/get/x-apigateway-backend/functionEndpoints/timeout"},
		{"policy", op("      x-apigateway-backend: {type: HTTP, httpEndpoints: {address: a.example.com, scheme: HTTP, method: GET, path: /}}\n      x-apigateway-backend-policies: [{name: p1x, type: HTTP, httpEndpoints: {address: b.example.com, scheme: HTTP, method: GET, path: /, timeout: 0}, conditions: [{type: equal, origin: source, value: 10.0.0.1}]}]\n"),
			"/paths/~1a/get/x-apigateway-backend-policies/0/httpEndpoints/timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps, err := openapi.Convert([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps.Errors {
				if p.Pointer == tt.ptr && strings.Contains(p.Message, "at least 1") {
					return
				}
			}
			t.Errorf("no error at %s: %v", tt.ptr, ps.Errors)
		})
	}
}

// Violations found by apigw's model point at the offending node itself
// (the parameter, the key inside the extension), not at the operation
// with a model field, so that the pointer can be used as it is.
func TestModelViolationsPointAtTheOffendingNode(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct{ name, doc, ptr, field string }{
		{"parameter name", swagger("  /a:\n    get:\n      operationId: aaa1\n      parameters:\n      - {name: ok, in: query, type: string}\n      - {name: '"+long+"', in: query, type: string}\n      x-apigateway-backend: "+okBackend+"\n", ""),
			"/paths/~1a/get/parameters/1/name", "req_params[1].name"},
		{"skipped parameters do not shift", swagger("  /a:\n    get:\n      operationId: aaa1\n      parameters:\n      - {name: X-Auth-Token, in: header, type: string}\n      - {name: '"+long+"', in: query, type: string}\n      x-apigateway-backend: "+okBackend+"\n", ""),
			"/paths/~1a/get/parameters/1/name", "req_params[0].name"},
		{"shared parameter", swagger("  /a:\n    get:\n      operationId: aaa1\n      parameters: [{$ref: '#/parameters/p'}]\n      x-apigateway-backend: "+okBackend+"\n", "parameters:\n  p: {name: '"+long+"', in: query, type: string}\n"),
			"/parameters/p/name", "req_params[0].name"},
		{"backend parameter", swagger("  /a:\n    get:\n      operationId: aaa1\n      x-apigateway-backend: {type: MOCK, parameters: [{name: '"+long+"', value: v, in: header, origin: CONSTANT}], mockEndpoints: {result-content: ok}}\n", ""),
			"/paths/~1a/get/x-apigateway-backend/parameters/0/name", "backend_params[0].name"},
		{"policy backend", swagger("  /a:\n    get:\n      operationId: aaa1\n      x-apigateway-backend: {type: HTTP, httpEndpoints: {address: a.example.com, scheme: HTTP, method: GET, path: /}}\n      x-apigateway-backend-policies: [{name: p1x, type: HTTP, httpEndpoints: {address: b.example.com, scheme: HTTP, method: GET, path: /, timeout: 900000}, conditions: [{type: equal, origin: source, value: 10.0.0.1}]}]\n", ""),
			"/paths/~1a/get/x-apigateway-backend-policies/0/httpEndpoints/timeout", "policy_https[0].timeout"},
		{"gateway response", swagger("  /a:\n    get: {operationId: aaa1, x-apigateway-backend: "+okBackend+"}\n", "x-apigateway-responses:\n  strict:\n    THROTTLED: {status: 444}\n"),
			"/x-apigateway-responses/strict/THROTTLED/status", "responses.THROTTLED.status"},
		{"throttle", swagger("  /a:\n    get: {operationId: aaa1, x-apigateway-backend: "+okBackend+"}\n", "x-apigateway-ratelimits:\n  rl1x: {api-limit: 5, user-limit: 9, interval: 1, unit: MINUTE}\n"),
			"/x-apigateway-ratelimits/rl1x/user-limit", "user_call_limits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps, err := openapi.Convert([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps.Errors {
				if p.Pointer == tt.ptr && strings.HasPrefix(p.Message, tt.field+":") {
					return
				}
			}
			t.Errorf("no %s error at %s: %v", tt.field, tt.ptr, ps.Errors)
		})
	}
}

// Integers beyond 32 bits are refused at their node, never wrapped.
func TestOutOfRangeIntegersAreRefused(t *testing.T) {
	doc := swagger("  /a:\n    get: {operationId: aaa1, x-apigateway-backend: "+okBackend+"}\n", "x-apigateway-ratelimits:\n  rl1x: {api-limit: 4294967297, interval: 1, unit: MINUTE}\n")
	_, ps, err := openapi.Convert([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps.Errors {
		if p.Pointer == "/x-apigateway-ratelimits/rl1x/api-limit" && strings.Contains(p.Message, "out of range") {
			return
		}
	}
	t.Errorf("no error at api-limit: %v", ps.Errors)
}
