package admin

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// Apply creates or updates many resources and deletes others in one atomic
// change. Resources without an id are matched by their natural key (name,
// or group and name, or the binding's API, environment and policy), so
// applying the same documents twice changes nothing. One invalid document
// fails the whole request, listing every violation.
func (s *Server) Apply(ctx context.Context, req *adminv1.ApplyRequest) (*adminv1.ApplyResponse, error) {
	var results []*adminv1.ApplyResult
	t, err := s.mutate(ctx, instanceOf(req.GetInstance()), req.GetDryRun(), func(t *tx) error {
		results = results[:0]
		t.reserve(len(req.GetResources()))
		for i, r := range req.GetResources() {
			field := fmt.Sprintf("resources[%d]", i)
			m, k := model.Unwrap(r)
			if m == nil {
				return badRequest("%s: resource is empty", field)
			}
			if k.Name == model.KindInstance && model.IDOf(m) != t.in().Name {
				return badRequest("%s: an instance can only be applied to itself (instance %q)", field, t.in().Name)
			}
			action, obj, err := t.upsert(proto.Clone(m), field, modeApply)
			if err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
			results = append(results, &adminv1.ApplyResult{Kind: k.Name, Id: model.IDOf(obj), Name: model.NameOf(obj), Action: action, Resource: t.output(obj)})
		}
		for i, d := range req.GetDeletes() {
			k, err := publicKind(d.GetKind())
			if err != nil {
				return fmt.Errorf("deletes[%d]: %w", i, err)
			}
			m, err := t.find(k.Name, d.GetId())
			if err != nil {
				return fmt.Errorf("deletes[%d]: %w", i, err)
			}
			if err := t.delete(k.Name, model.IDOf(m)); err != nil {
				return fmt.Errorf("deletes[%d]: %w", i, err)
			}
			results = append(results, &adminv1.ApplyResult{Kind: k.Name, Id: model.IDOf(m), Name: model.NameOf(m), Action: actDeleted})
		}
		return nil
	})
	if err != nil {
		return nil, s.toStatus(ctx, "apply", err)
	}
	for _, r := range results {
		if r.Action == actCreated || r.Action == actUpdated {
			stampOutput(r.Resource, t.revision)
		}
	}
	return &adminv1.ApplyResponse{Results: results, Revision: t.revision}, nil
}
