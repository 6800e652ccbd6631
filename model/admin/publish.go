package admin

import (
	"context"
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// target resolves the API (id, or name within a group) and environment
// (id or name; RELEASE when empty) of a publishing request.
func (t *tx) target(apiRef, groupRef, envRef string) (*apigwv1.Api, *apigwv1.Environment, error) {
	var api *apigwv1.Api
	if groupRef != "" {
		g, err := t.find(model.KindGroup, groupRef)
		if err != nil {
			return nil, nil, err
		}
		if a, ok := t.get(model.KindAPI, apiRef).(*apigwv1.Api); ok && a.GroupId == model.IDOf(g) {
			api = a
		}
		for _, id := range t.view().Named(model.KindAPI, apiRef) {
			if a, ok := t.get(model.KindAPI, id).(*apigwv1.Api); ok && a.GroupId == model.IDOf(g) {
				api = a
			}
		}
		if api == nil {
			return nil, nil, fmt.Errorf("api %s in group %s: %w", model.Excerpt(apiRef), model.Excerpt(groupRef), model.ErrNotFound)
		}
	} else {
		m, err := t.find(model.KindAPI, apiRef)
		if err != nil {
			return nil, nil, err
		}
		api = m.(*apigwv1.Api)
	}
	if envRef == "" {
		envRef = model.ReleaseEnvID
	}
	e, err := t.find(model.KindEnvironment, envRef)
	if err != nil {
		return nil, nil, err
	}
	return api, e.(*apigwv1.Environment), nil
}

// publish stages a publication record of the API's draft for an
// environment and makes it current. Records beyond the retention quota
// (10 per API and environment) are dropped, oldest first.
func (t *tx) publish(api *apigwv1.Api, env *apigwv1.Environment, version, remark string) (*apigwv1.Publication, error) {
	if vs := append(model.Validate(api, t.limits()), t.view().Check(api)...); len(vs) > 0 {
		return nil, fmt.Errorf("api %s cannot be published: %w", api.Name, vs.Err())
	}
	pub, err := t.view().Publication(api.Id, env.Id, t.s.newID(), version, remark, t.s.now())
	if err != nil {
		return nil, err
	}
	// The record copies the group's variables of the environment.
	for _, id := range t.view().ReferrerIDs(model.KindGroup, api.GroupId, model.KindEnvVariable) {
		if v, ok := t.get(model.KindEnvVariable, id).(*apigwv1.EnvVariable); ok && v.EnvId == env.Id {
			t.read(model.KindEnvVariable, id)
		}
	}
	t.stamp(pub, nil)
	t.stage(pub, "")
	t.stage(&apigwv1.Release{ApiId: api.Id, EnvId: env.Id, PublicationId: pub.Id, Meta: pub.Meta}, "")
	t.retain(api.Id, env.Id, pub.Id)
	return pub, nil
}

// unpublish stages taking an API offline in an environment. Bindings and
// records stay.
func (t *tx) unpublish(api *apigwv1.Api, env *apigwv1.Environment) error {
	if t.release(api.Id, env.Id) == nil {
		return fmt.Errorf("api %s is not published in %s: %w", api.Name, env.Name, model.ErrNotFound)
	}
	t.remove(model.KindRelease, model.ReleaseID(api.Id, env.Id))
	return nil
}

// rollback stages making a retained record current again. When the API is
// offline in the environment, this publishes it again with that record. A
// record that references an object deleted since (an authorizer, a
// channel) is refused with FAILED_PRECONDITION.
func (t *tx) rollback(api *apigwv1.Api, env *apigwv1.Environment, pubID string) (*apigwv1.Publication, error) {
	p, ok := t.get(model.KindPublication, pubID).(*apigwv1.Publication)
	if !ok || p.ApiId != api.Id || p.EnvId != env.Id {
		return nil, fmt.Errorf("publication %s of api %s in %s: %w", model.Excerpt(pubID), api.Name, env.Name, model.ErrNotFound)
	}
	if vs := t.view().Check(p); len(vs) > 0 {
		return nil, fmt.Errorf("publication %s of api %s cannot be made current again (%v): %w", p.Id, api.Name, vs.Err(), errPrecondition)
	}
	r := &apigwv1.Release{ApiId: api.Id, EnvId: env.Id, PublicationId: p.Id}
	var old proto.Message // none when the API is offline: the record is published again
	if cur := t.release(api.Id, env.Id); cur != nil {
		old = cur
	}
	t.stamp(r, old)
	t.stage(r, "")
	return p, nil
}

// Publish stores a publication record of the API's draft for an
// environment and makes it current.
func (s *Server) Publish(ctx context.Context, req *adminv1.PublishRequest) (*adminv1.PublishResponse, error) {
	var pub *apigwv1.Publication
	_, err := s.mutate(ctx, instanceOf(req.GetInstance()), false, func(t *tx) error {
		api, env, err := t.target(req.GetApiId(), req.GetGroup(), req.GetEnvId())
		if err != nil {
			return err
		}
		pub, err = t.publish(api, env, req.GetVersion(), req.GetRemark())
		return err
	})
	if err != nil {
		return nil, s.toStatus(ctx, "publish", err)
	}
	return &adminv1.PublishResponse{Publication: pub}, nil
}

// records returns the publication records of (API, environment), newest
// first.
func (t *tx) records(apiID, envID string) []*apigwv1.Publication {
	var out []*apigwv1.Publication
	for _, id := range t.view().ReferrerIDs(model.KindAPI, apiID, model.KindPublication) {
		if p, ok := t.get(model.KindPublication, id).(*apigwv1.Publication); ok && p.ApiId == apiID && p.EnvId == envID {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		ti, tj := out[i].GetPublishTime().AsTime(), out[j].GetPublishTime().AsTime()
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return out[i].Id > out[j].Id
	})
	return out
}

// retain drops the oldest records beyond the quota, never the current one.
func (t *tx) retain(apiID, envID, current string) {
	keep := int(t.limits().Quotas.GetPublicationRecords())
	for i, p := range t.records(apiID, envID) {
		if i >= keep && p.Id != current {
			t.remove(model.KindPublication, p.Id)
		}
	}
}

func (t *tx) release(apiID, envID string) *apigwv1.Release {
	r, _ := t.get(model.KindRelease, model.ReleaseID(apiID, envID)).(*apigwv1.Release)
	return r
}

// Unpublish takes an API offline in an environment. Bindings and records
// stay.
func (s *Server) Unpublish(ctx context.Context, req *adminv1.UnpublishRequest) (*adminv1.UnpublishResponse, error) {
	_, err := s.mutate(ctx, instanceOf(req.GetInstance()), false, func(t *tx) error {
		api, env, err := t.target(req.GetApiId(), req.GetGroup(), req.GetEnvId())
		if err != nil {
			return err
		}
		return t.unpublish(api, env)
	})
	if err != nil {
		return nil, s.toStatus(ctx, "unpublish", err)
	}
	return &adminv1.UnpublishResponse{}, nil
}

// Rollback makes a retained record current again. When the API is offline
// in the environment, this publishes it again with that record. A record
// that references an object deleted since (an authorizer, a channel) is
// refused with FAILED_PRECONDITION.
func (s *Server) Rollback(ctx context.Context, req *adminv1.RollbackRequest) (*adminv1.RollbackResponse, error) {
	var pub *apigwv1.Publication
	_, err := s.mutate(ctx, instanceOf(req.GetInstance()), false, func(t *tx) error {
		api, env, err := t.target(req.GetApiId(), req.GetGroup(), req.GetEnvId())
		if err != nil {
			return err
		}
		pub, err = t.rollback(api, env, req.GetPublicationId())
		return err
	})
	if err != nil {
		return nil, s.toStatus(ctx, "rollback", err)
	}
	return &adminv1.RollbackResponse{Publication: pub}, nil
}

// PublishBatch publishes, unpublishes and rolls back many APIs in one
// atomic change. Items apply in order, each seeing the ones before it;
// the first item that fails fails the whole request and nothing is
// stored.
func (s *Server) PublishBatch(ctx context.Context, req *adminv1.PublishBatchRequest) (*adminv1.PublishBatchResponse, error) {
	if len(req.GetItems()) == 0 {
		return nil, s.toStatus(ctx, "publish batch", badRequest("items: at least one item is required"))
	}
	var results []*adminv1.PublishBatchResult
	t, err := s.mutate(ctx, instanceOf(req.GetInstance()), req.GetDryRun(), func(t *tx) error {
		results = results[:0]
		for i, it := range req.GetItems() {
			field := fmt.Sprintf("items[%d]", i)
			api, env, err := t.target(it.GetApiId(), it.GetGroup(), it.GetEnvId())
			if err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
			res := &adminv1.PublishBatchResult{Action: it.GetAction(), ApiId: api.Id, ApiName: api.Name, EnvId: env.Id}
			switch it.GetAction() {
			case adminv1.PublishAction_PUBLISH_ACTION_PUBLISH:
				res.Publication, err = t.publish(api, env, it.GetVersion(), it.GetRemark())
			case adminv1.PublishAction_PUBLISH_ACTION_UNPUBLISH:
				err = t.unpublish(api, env)
			case adminv1.PublishAction_PUBLISH_ACTION_ROLLBACK:
				res.Publication, err = t.rollback(api, env, it.GetPublicationId())
			default:
				err = badRequest("action must be PUBLISH_ACTION_PUBLISH, PUBLISH_ACTION_UNPUBLISH or PUBLISH_ACTION_ROLLBACK")
			}
			if vs, ok := model.AsValidation(err); ok {
				// Violations name the item: items[i].backend_api.url_domain.
				var in model.Violations
				in.Merge(field, vs)
				return fmt.Errorf("%s: api %s cannot be published: %w", field, api.Name, in.Err())
			}
			if err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
			results = append(results, res)
		}
		return nil
	})
	if err != nil {
		return nil, s.toStatus(ctx, "publish batch", err)
	}
	return &adminv1.PublishBatchResponse{Results: results, Revision: t.revision}, nil
}

// ListPublications lists the retained records of (API, environment).
func (s *Server) ListPublications(ctx context.Context, req *adminv1.ListPublicationsRequest) (*adminv1.ListPublicationsResponse, error) {
	base, err := s.load(ctx, "instance", instanceOf(req.GetInstance()))
	if err != nil {
		return nil, s.toStatus(ctx, "list publications", err)
	}
	t := newTx(s, base)
	api, env, err := t.target(req.GetApiId(), req.GetGroup(), req.GetEnvId())
	if err != nil {
		return nil, s.toStatus(ctx, "list publications", err)
	}
	s.storeHeader(ctx, base.Revision)
	resp := &adminv1.ListPublicationsResponse{}
	for _, p := range t.records(api.Id, env.Id) {
		resp.Publications = append(resp.Publications, proto.Clone(p).(*apigwv1.Publication))
	}
	if r := t.release(api.Id, env.Id); r != nil {
		resp.CurrentPublicationId = r.PublicationId
	}
	return resp, nil
}
