package openapisvc_test

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/openapisvc"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

const specialsDoc = `swagger: "2.0"
info: {title: specials_api, version: "1"}
paths:
  /a:
    get:
      operationId: aaa_special
      x-apigateway-ratelimit: rl_special
      x-apigateway-backend: {type: MOCK, mockEndpoints: {result-content: ok}}
x-apigateway-ratelimits:
  rl_special:
    api-limit: 100
    interval: 1
    unit: MINUTE
    special: [{type: APP, limit: 10, instance: 9f1e2d3c4b5a69788796a5b4c3d2e1f0}]
`

// The console's import reports what apigctl reports: the warning about a
// special naming no app, and violations found by the admin API at the
// document node with the model field leading the description.
func TestImportReportsSpecialWarningsAndNodeFields(t *testing.T) {
	srv := admintest.Start(t)
	ctx := admintest.Context(t)
	svc := openapisvc.New(srv.Client)
	out, err := svc.ImportOpenAPI(ctx, &adminv1.ImportOpenAPIRequest{Document: []byte(specialsDoc)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(out.Warnings, "\n"), "/x-apigateway-ratelimits/rl_special/special/0: app \"9f1e2d3c4b5a69788796a5b4c3d2e1f0\" does not exist") {
		t.Errorf("warnings: %v", out.Warnings)
	}
	vpc := strings.Replace(specialsDoc, "{type: MOCK, mockEndpoints: {result-content: ok}}", "{type: HTTP-VPC, httpVpcEndpoints: {name: nowhere, scheme: HTTP, method: GET, path: /}}", 1)
	vpc = strings.Replace(vpc, "specials_api", "other_api", 1)
	_, err = svc.ImportOpenAPI(ctx, &adminv1.ImportOpenAPIRequest{Document: []byte(vpc)})
	vs := violations(t, err)
	if vs[0].GetField() != "document/paths/~1a/get/x-apigateway-backend/httpVpcEndpoints/name" || !strings.HasPrefix(vs[0].GetDescription(), "backend_api.vpc_channel_info.vpc_channel_id: ") {
		t.Errorf("violation %v", vs[0])
	}
}
