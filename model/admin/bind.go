package admin

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// binding builds the binding object of a policy kind.
func binding(policyKind, policyID, apiID, envID string) (proto.Message, error) {
	switch policyKind {
	case model.KindThrottle:
		return &apigwv1.ThrottleBinding{ApiId: apiID, EnvId: envID, StrategyId: policyID}, nil
	case model.KindACL:
		return &apigwv1.AclBinding{ApiId: apiID, EnvId: envID, AclId: policyID}, nil
	case model.KindApp:
		return &apigwv1.AppAuth{ApiId: apiID, EnvId: envID, AppId: policyID}, nil
	case model.KindSignature:
		return &apigwv1.SignatureBinding{ApiId: apiID, EnvId: envID, SignId: policyID}, nil
	case model.KindPlugin:
		return &apigwv1.PluginBinding{ApiId: apiID, EnvId: envID, PluginId: policyID}, nil
	}
	return nil, badRequest("policy_kind must be throttle, acl, app, signature or plugin (got %q)", policyKind)
}

// Bind binds a policy to APIs in an environment (or authorizes an app).
// Binding again is a no-op; binding a second throttling policy (or a
// second ACL of the same entity type) to an API and environment fails.
func (s *Server) Bind(ctx context.Context, req *adminv1.BindRequest) (*adminv1.BindResponse, error) {
	var out []*apigwv1.Resource
	_, err := s.mutate(ctx, instanceOf(req.GetInstance()), false, func(t *tx) error {
		out = out[:0]
		policy, env, apis, err := t.bindTargets(req.GetPolicyKind(), req.GetPolicyId(), req.GetEnvId(), req.GetApiIds())
		if err != nil {
			return err
		}
		for i, api := range apis {
			b, err := binding(req.GetPolicyKind(), model.IDOf(policy), api, env)
			if err != nil {
				return err
			}
			t.resolve(b)
			if old, _ := t.existing(b, modeApply); old != nil {
				if tb, ok := old.(*apigwv1.ThrottleBinding); ok && tb.StrategyId != model.IDOf(policy) {
					return fmt.Errorf("api %s already has throttling policy %s in this environment; unbind it first: %w", api, tb.StrategyId, model.ErrExists)
				}
				out = append(out, t.output(old))
				continue
			}
			model.SetID(b, t.s.newID())
			t.stamp(b, nil)
			t.stage(b, fmt.Sprintf("api_ids[%d]", i))
			out = append(out, t.output(b))
		}
		return nil
	})
	if err != nil {
		return nil, s.toStatus(ctx, "bind", err)
	}
	return &adminv1.BindResponse{Resources: out}, nil
}

// Unbind removes bindings of a policy from APIs in an environment.
func (s *Server) Unbind(ctx context.Context, req *adminv1.UnbindRequest) (*adminv1.UnbindResponse, error) {
	removed := 0
	_, err := s.mutate(ctx, instanceOf(req.GetInstance()), false, func(t *tx) error {
		removed = 0
		policy, env, apis, err := t.bindTargets(req.GetPolicyKind(), req.GetPolicyId(), req.GetEnvId(), req.GetApiIds())
		if err != nil {
			return err
		}
		for _, api := range apis {
			b, _ := binding(req.GetPolicyKind(), model.IDOf(policy), api, env)
			if old, _ := t.existing(b, modeApply); old != nil {
				if tb, ok := old.(*apigwv1.ThrottleBinding); ok && tb.StrategyId != model.IDOf(policy) {
					continue
				}
				t.remove(model.KindOf(old).Name, model.IDOf(old))
				removed++
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.toStatus(ctx, "unbind", err)
	}
	return &adminv1.UnbindResponse{Removed: int32(removed)}, nil
}

func (t *tx) bindTargets(kind, policyRef, envRef string, apiRefs []string) (proto.Message, string, []string, error) {
	if kind != model.KindThrottle && kind != model.KindACL && kind != model.KindApp && kind != model.KindSignature && kind != model.KindPlugin {
		return nil, "", nil, badRequest("policy_kind must be throttle, acl, app, signature or plugin (got %q)", kind)
	}
	policy, err := t.find(kind, policyRef)
	if err != nil {
		return nil, "", nil, err
	}
	if envRef == "" {
		envRef = model.ReleaseEnvID
	}
	env, err := t.find(model.KindEnvironment, envRef)
	if err != nil {
		return nil, "", nil, err
	}
	if len(apiRefs) == 0 {
		return nil, "", nil, badRequest("api_ids: at least one API is required")
	}
	var apis []string
	for _, ref := range apiRefs {
		a, err := t.find(model.KindAPI, ref)
		if err != nil {
			return nil, "", nil, err
		}
		apis = append(apis, model.IDOf(a))
	}
	return policy, model.IDOf(env), apis, nil
}
