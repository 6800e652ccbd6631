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
