package openapisvc_test

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/model/admin/admintest"
	"github.com/apigw/apigw/openapisvc"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

const doc = `swagger: "2.0"
info: {title: petstore, version: "1.0"}
paths:
  /inventory:
    get:
      operationId: getInventory
      responses: {default: {description: ok}}
      x-apigateway-backend:
        type: HTTP
        httpEndpoints: {address: 127.0.0.1:9, scheme: http, method: GET, path: /inventory, timeout: 5000}
`

func violations(t *testing.T, err error) []*errdetails.BadRequest_FieldViolation {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			return br.GetFieldViolations()
		}
	}
	t.Fatalf("no field violations in %v", err)
	return nil
}

// A dry run reports what the import would create and stores nothing; the
// import then creates it, and the export gives the API back.
func TestImportDryRunThenApplyThenExport(t *testing.T) {
	srv := admintest.Start(t)
	ctx := admintest.Context(t)
	svc := openapisvc.New(srv.Client)
	dry, err := svc.ImportOpenAPI(ctx, &adminv1.ImportOpenAPIRequest{Document: []byte(doc), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range dry.GetResults() {
		actions = append(actions, r.GetKind()+"/"+r.GetName()+" "+r.GetAction())
	}
	if got := strings.Join(actions, ", "); !strings.Contains(got, "group/petstore created") || !strings.Contains(got, "api/getInventory created") {
		t.Fatalf("dry run: %s", got)
	}
	if l, err := srv.Client.List(ctx, &adminv1.ListRequest{Kind: "api"}); err != nil || l.GetTotal() != 0 {
		t.Fatalf("the dry run stored something: %v %v", l, err)
	}
	res, err := svc.ImportOpenAPI(ctx, &adminv1.ImportOpenAPIRequest{Document: []byte(doc)})
	if err != nil || len(res.GetApiIds()) != 1 {
		t.Fatalf("import: %v %v", res, err)
	}
	out, err := svc.ExportOpenAPI(ctx, &adminv1.ExportOpenAPIRequest{Group: "petstore", Draft: true})
	if err != nil || !strings.Contains(string(out.GetDocument()), "getInventory") {
		t.Fatalf("export: %v %s", err, out.GetDocument())
	}
}

// Bad input names its field: the document's node, or the request field.
func TestBadInputNamesTheField(t *testing.T) {
	srv := admintest.Start(t)
	ctx := admintest.Context(t)
	svc := openapisvc.New(srv.Client)
	bad := strings.Replace(doc, "timeout: 5000", "timeout: 5000, bogus: [", 1)
	if _, err := svc.ImportOpenAPI(ctx, &adminv1.ImportOpenAPIRequest{Document: []byte(bad)}); err == nil {
		t.Fatal("a broken document was imported")
	}
	noBackend := strings.Replace(doc, "x-apigateway-backend:", "x-apigateway-backendx:", 1)
	_, err := svc.ImportOpenAPI(ctx, &adminv1.ImportOpenAPIRequest{Document: []byte(noBackend)})
	if err == nil {
		t.Fatal("an API without a backend was imported")
	}
	if vs := violations(t, err); !strings.HasPrefix(vs[0].GetField(), "document") {
		t.Errorf("violation %v does not name the document node", vs[0])
	}
	if vs := violations(t, func() error {
		_, err := svc.ImportOpenAPI(ctx, &adminv1.ImportOpenAPIRequest{Document: []byte(doc), Conflict: "maybe"})
		return err
	}()); vs[0].GetField() != "conflict" {
		t.Errorf("conflict: %v", vs)
	}
	if vs := violations(t, func() error { _, err := svc.ExportOpenAPI(ctx, &adminv1.ExportOpenAPIRequest{}); return err }()); vs[0].GetField() != "group" {
		t.Errorf("export without group: %v", vs)
	}
	if l, err := srv.Client.List(ctx, &adminv1.ListRequest{Kind: "api"}); err != nil || l.GetTotal() != 0 {
		t.Fatalf("a refused import stored something: %v %v", l, err)
	}
}
