package admin_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Every instance has its DEFAULT group before any write: it is listed,
// holds APIs, can be updated (then it is stored) but not deleted nor
// renamed, and no second group can take the name DEFAULT.
func TestEveryInstanceHasADefaultGroup(t *testing.T) {
	e := setup(t)
	l, err := e.c.List(e.ctx, &adminv1.ListRequest{Kind: "group", PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if l.Total != 1 || l.Resources[0].GetGroup().GetName() != model.DefaultGroupName || l.Resources[0].GetGroup().GetId() != model.DefaultGroupID {
		t.Fatalf("groups of a new instance: %v, want the DEFAULT group", l.Resources)
	}
	if len(e.keys(t)) != 0 {
		t.Errorf("the built-in DEFAULT group was stored: %v", e.keys(t))
	}

	// APIs are created in it by name.
	api := e.create(t, petsAPI(model.DefaultGroupName)).(*apigwv1.Api)
	if api.GroupId != model.DefaultGroupID {
		t.Errorf("API group %q, want %s", api.GroupId, model.DefaultGroupID)
	}

	// A second group named DEFAULT is refused, with or without an id.
	for _, g := range []*apigwv1.ApiGroup{{Name: "DEFAULT"}, {Id: "dflt", Name: "DEFAULT"}} {
		if _, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(g)}); code(err) != codes.AlreadyExists {
			t.Errorf("create %v: %v, want AlreadyExists", g, err)
		}
	}
	other := e.create(t, &apigwv1.ApiGroup{Name: "pets"}).(*apigwv1.ApiGroup)
	other.Name = "DEFAULT"
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(other)}); code(err) != codes.AlreadyExists {
		t.Errorf("renaming another group to DEFAULT: %v, want AlreadyExists", err)
	}

	// It is updated like any group (and then stored), keeping its name.
	g := &apigwv1.ApiGroup{Id: model.DefaultGroupID, Name: model.DefaultGroupName, Remark: "gateway address APIs"}
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(g)}); err != nil {
		t.Fatalf("update of the DEFAULT group: %v", err)
	}
	got, err := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: "group", Id: "DEFAULT"})
	if err != nil || got.Resource.GetGroup().GetRemark() != "gateway address APIs" {
		t.Errorf("DEFAULT group after update: %v, %v", got, err)
	}
	stored := false
	for _, k := range e.keys(t) {
		stored = stored || strings.HasSuffix(k, "/groups/"+model.DefaultGroupID)
	}
	if !stored {
		t.Errorf("the updated DEFAULT group is not stored: %v", e.keys(t))
	}
	g.Name = "MAIN"
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(g)}); code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "DEFAULT") {
		t.Errorf("renaming the DEFAULT group: %v, want InvalidArgument", err)
	}
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: model.KindGroup, Id: model.DefaultGroupID}); code(err) != codes.InvalidArgument {
		t.Errorf("deleting the DEFAULT group: %v, want InvalidArgument", err)
	}
}

// An instance whose DEFAULT group was written is deleted with it once it
// holds nothing else.
func TestInstanceDeletionTakesItsDefaultGroup(t *testing.T) {
	e := setup(t)
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(&apigwv1.Instance{Name: "second", Description: "x"})}); err != nil {
		t.Fatal(err)
	}
	g := &apigwv1.ApiGroup{Id: model.DefaultGroupID, Name: model.DefaultGroupName, Remark: "written"}
	if _, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Instance: "second", Resource: model.Wrap(g)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Instance: "second", Resource: model.Wrap(&apigwv1.ApiGroup{Name: "pets"})}); err != nil {
		t.Fatal(err)
	}
	del := &adminv1.DeleteRequest{Kind: model.KindInstance, Id: "second"}
	if _, err := e.c.Delete(e.ctx, del); code(err) != codes.FailedPrecondition {
		t.Errorf("deleting an instance holding a group: %v, want FailedPrecondition", err)
	}
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Instance: "second", Kind: model.KindGroup, Id: "pets"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Delete(e.ctx, del); err != nil {
		t.Fatalf("deleting an instance holding only its DEFAULT group: %v", err)
	}
	for _, k := range e.keys(t) {
		if strings.HasPrefix(k, store.InstancePrefix("second")) {
			t.Errorf("left in etcd: %s", k)
		}
	}
}
