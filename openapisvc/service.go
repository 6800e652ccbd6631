// Package openapisvc serves the admin API's OpenAPIService: Swagger 2.0 /
// OpenAPI 3 import and export with the code of `apigctl import` and
// `apigctl export` (cmd/apigctl/openapi), run against the admin service
// in the same process, so that the console imports and exports exactly as
// the CLI does.
package openapisvc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apigw/apigw/cmd/apigctl/openapi"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// Service implements adminv1.OpenAPIServiceServer.
type Service struct {
	adminv1.UnimplementedOpenAPIServiceServer
	admin adminv1.AdminServiceClient
}

var _ adminv1.OpenAPIServiceServer = (*Service)(nil)

// New returns the service; admin is the admin API it imports into and
// exports from (an in-process client of the same server).
func New(admin adminv1.AdminServiceClient) *Service { return &Service{admin: admin} }

// maxDocument bounds an imported document.
const maxDocument = 16 << 20

// ImportOpenAPI converts the document and applies it (or reports what it
// would change, with dry_run).
func (s *Service) ImportOpenAPI(ctx context.Context, req *adminv1.ImportOpenAPIRequest) (*adminv1.ImportOpenAPIResponse, error) {
	if len(req.GetDocument()) == 0 {
		return nil, badRequest("document", "is required")
	}
	if len(req.GetDocument()) > maxDocument {
		return nil, badRequest("document", fmt.Sprintf("is larger than %d bytes", maxDocument))
	}
	conflict := req.GetConflict()
	switch conflict {
	case "":
		conflict = openapi.ConflictFail
	case openapi.ConflictFail, openapi.ConflictSkip, openapi.ConflictOverwrite:
	default:
		return nil, badRequest("conflict", "must be fail, skip or overwrite")
	}
	env := req.GetEnvId()
	if env == "" {
		env = "RELEASE"
	}
	plan, ps, err := openapi.Convert(req.GetDocument())
	if err != nil {
		return nil, badRequest("document", err.Error())
	}
	if len(ps.Errors) > 0 {
		br := &errdetails.BadRequest{}
		for _, p := range ps.Errors {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: "document" + p.Pointer, Description: p.Message})
		}
		st, _ := status.New(codes.InvalidArgument, fmt.Sprintf("the document has %d problem(s); nothing was imported", len(ps.Errors))).WithDetails(br)
		return nil, st.Err()
	}
	res, err := openapi.Import(ctx, s.admin, plan, openapi.ImportOptions{Instance: req.GetInstance(), Group: req.GetGroup(),
		NewGroup: req.GetNewGroup(), Env: env, Conflict: conflict, DryRun: req.GetDryRun()})
	var ae *openapi.ApplyError
	var ce *openapi.ConflictError
	switch {
	case errors.As(err, &ae):
		return nil, withDocumentFields(ae)
	case errors.As(err, &ce):
		return nil, status.Error(codes.AlreadyExists, ce.Error()+"; nothing was imported")
	case err != nil:
		return nil, err
	}
	out := &adminv1.ImportOpenAPIResponse{Results: res.Results, Skipped: res.Skipped, ApiIds: res.APIIDs}
	for _, w := range append(ps.Warnings, res.Warnings...) {
		out.Warnings = append(out.Warnings, w.String())
	}
	return out, nil
}

// withDocumentFields rewrites the field violations of a refused apply to
// name the document's nodes ("document/paths/~1pets/get/parameters/0/name"),
// the model field leading the description ("req_params[0].name: ...").
func withDocumentFields(ae *openapi.ApplyError) error {
	st, ok := status.FromError(ae.Err)
	if !ok {
		return ae.Err
	}
	out := status.New(st.Code(), st.Message())
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		nb := &errdetails.BadRequest{}
		for _, v := range br.GetFieldViolations() {
			f, desc := ae.Field(v.GetField()), v.GetDescription()
			if strings.HasPrefix(f, "/") { // a node of the document, then the model field
				if node, field, ok := strings.Cut(f, ": "); ok {
					f, desc = node, field+": "+desc
				}
				f = "document" + f
			}
			nb.FieldViolations = append(nb.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f, Description: desc})
		}
		if o, err := out.WithDetails(nb); err == nil {
			out = o
		}
	}
	return out.Err()
}

// ExportOpenAPI writes the group's APIs as a document.
func (s *Service) ExportOpenAPI(ctx context.Context, req *adminv1.ExportOpenAPIRequest) (*adminv1.ExportOpenAPIResponse, error) {
	if req.GetGroup() == "" {
		return nil, badRequest("group", "is required")
	}
	format := req.GetFormat()
	switch format {
	case "":
		format = openapi.Swagger2
	case openapi.Swagger2, openapi.OpenAPI3:
	default:
		return nil, badRequest("format", "must be 2.0 or 3.0")
	}
	env := req.GetEnvId()
	if env == "" {
		env = "RELEASE"
	}
	doc, err := openapi.Export(ctx, s.admin, openapi.ExportOptions{Instance: req.GetInstance(), Group: req.GetGroup(), Env: env,
		Draft: req.GetDraft(), APIs: req.GetApiIds(), Format: format, JSON: req.GetJson()})
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return &adminv1.ExportOpenAPIResponse{Document: doc}, nil
}

func badRequest(field, desc string) error {
	st, _ := status.New(codes.InvalidArgument, field+": "+desc).WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}}})
	return st.Err()
}
