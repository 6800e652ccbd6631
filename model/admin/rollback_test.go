package admin_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Rolling back an API that is offline in the environment publishes the
// chosen record again.
func TestRollbackOfAnOfflineAPIRepublishesTheRecord(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	env := e.create(t, &apigwv1.Environment{Name: "TEST"}).(*apigwv1.Environment)
	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: "TEST", VariableName: "backend", VariableValue: "10.0.0.1"})
	api := e.create(t, petsAPI("pets")).(*apigwv1.Api)
	pub, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: api.Id, EnvId: "TEST"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Unpublish(e.ctx, &adminv1.UnpublishRequest{ApiId: api.Id, EnvId: "TEST"}); err != nil {
		t.Fatal(err)
	}
	waitRevision(t, e, 0, func(s *live.Snapshot) bool { return s.Instance("default").Served(api.Id, env.Id) == nil })

	rb, err := e.c.Rollback(e.ctx, &adminv1.RollbackRequest{ApiId: api.Id, EnvId: "TEST", PublicationId: pub.Publication.Id})
	if err != nil {
		t.Fatalf("rollback of an offline API: %v", err)
	}
	if rb.Publication.GetId() != pub.Publication.Id {
		t.Fatalf("rollback returned record %q, want %q", rb.Publication.GetId(), pub.Publication.Id)
	}
	waitRevision(t, e, 0, func(s *live.Snapshot) bool {
		p := s.Instance("default").Served(api.Id, env.Id)
		return p != nil && p.Id == pub.Publication.Id
	})
	l, err := e.c.ListPublications(e.ctx, &adminv1.ListPublicationsRequest{ApiId: api.Id, EnvId: "TEST"})
	if err != nil {
		t.Fatal(err)
	}
	if l.CurrentPublicationId != pub.Publication.Id {
		t.Fatalf("current record %q, want %q", l.CurrentPublicationId, pub.Publication.Id)
	}
}

// A retained record that references an object deleted since it was
// current cannot be made current again.
func TestRollbackToARecordWithADeletedReferenceIsRefused(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: "RELEASE", VariableName: "backend", VariableValue: "10.0.0.1"})
	e.create(t, &apigwv1.Authorizer{Name: "checker", Type: "FRONTEND", AuthorizerType: "FUNC", AuthorizerUri: "http://127.0.0.1:9/auth"})
	api := petsAPI("pets")
	api.AuthType, api.AuthorizerId = "AUTHORIZER", "checker"
	api = e.create(t, api).(*apigwv1.Api)
	old, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: api.Id})
	if err != nil {
		t.Fatal(err)
	}
	api.AuthType, api.AuthorizerId, api.Meta = "NONE", "", nil
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(api)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: api.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: model.KindAuthorizer, Id: "checker"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.Rollback(e.ctx, &adminv1.RollbackRequest{ApiId: api.Id, PublicationId: old.Publication.Id})
	if code(err) != codes.FailedPrecondition {
		t.Fatalf("rollback to a record whose authorizer is gone: %v, want FailedPrecondition", err)
	}
}

// A batch rollback follows the same rules as Rollback: an offline API is
// published again with the chosen record, and a record naming an object
// deleted since is refused with FAILED_PRECONDITION naming the item.
func TestPublishBatchRollbackRepublishesAndRefusesDeletedReferences(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: "RELEASE", VariableName: "backend", VariableValue: "10.0.0.1"})
	e.create(t, &apigwv1.Authorizer{Name: "checker", Type: "FRONTEND", AuthorizerType: "FUNC", AuthorizerUri: "http://127.0.0.1:9/auth"})
	api := petsAPI("pets")
	api.AuthType, api.AuthorizerId = "AUTHORIZER", "checker"
	api = e.create(t, api).(*apigwv1.Api)
	old, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: api.Id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Unpublish(e.ctx, &adminv1.UnpublishRequest{ApiId: api.Id}); err != nil {
		t.Fatal(err)
	}
	rollback := &adminv1.PublishBatchRequest{Items: []*adminv1.PublishBatchItem{{Action: adminv1.PublishAction_PUBLISH_ACTION_ROLLBACK, ApiId: api.Id, PublicationId: old.Publication.Id}}}
	if _, err := e.c.PublishBatch(e.ctx, rollback); err != nil {
		t.Fatalf("batch rollback of an offline API: %v", err)
	}
	l, err := e.c.ListPublications(e.ctx, &adminv1.ListPublicationsRequest{ApiId: api.Id})
	if err != nil {
		t.Fatal(err)
	}
	if l.CurrentPublicationId != old.Publication.Id {
		t.Fatalf("current record %q, want %q", l.CurrentPublicationId, old.Publication.Id)
	}

	api.AuthType, api.AuthorizerId, api.Meta = "NONE", "", nil
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(api)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Publish(e.ctx, &adminv1.PublishRequest{ApiId: api.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: model.KindAuthorizer, Id: "checker"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.PublishBatch(e.ctx, rollback)
	if code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "items[0]") {
		t.Fatalf("batch rollback to a record whose authorizer is gone: %v, want FailedPrecondition naming items[0]", err)
	}
}
