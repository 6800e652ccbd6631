package admin_test

import (
	"testing"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// With config.app_route on, an app cannot be authorized for two APIs
// with the same method and path in one environment: the second app_auth
// is refused at api_id, and app_route cannot be turned on while such
// authorizations exist (refused at config.app_route).
func TestAppRouteRefusesSameMethodAndPath(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	e.create(t, &apigwv1.ApiGroup{Name: "shop"})
	e.create(t, &apigwv1.EnvVariable{GroupId: "pets", EnvId: model.ReleaseEnvID, VariableName: "backend", VariableValue: "10.1.2.3:8080"})
	e.create(t, &apigwv1.EnvVariable{GroupId: "shop", EnvId: model.ReleaseEnvID, VariableName: "backend", VariableValue: "10.1.2.3:8080"})
	a1 := e.create(t, petsAPI("pets")).(*apigwv1.Api)
	a2 := e.create(t, petsAPI("shop")).(*apigwv1.Api)
	app := e.create(t, &apigwv1.App{Name: "route_app"}).(*apigwv1.App)
	setAppRoute := func(on bool) error {
		_, err := e.c.Update(e.ctx, &adminv1.UpdateRequest{Resource: model.Wrap(&apigwv1.Instance{Name: model.DefaultInstance,
			Config: &apigwv1.InstanceConfig{DefaultGroupHosts: []string{"192.0.2.10"}, AppRoute: on}})})
		return err
	}
	e.create(t, &apigwv1.AppAuth{ApiId: a1.Id, EnvId: model.ReleaseEnvID, AppId: app.Id})
	second := e.create(t, &apigwv1.AppAuth{ApiId: a2.Id, EnvId: model.ReleaseEnvID, AppId: app.Id}).(*apigwv1.AppAuth)
	if err := setAppRoute(true); !hasViolation(t, err, "config.app_route", "same method and path") {
		t.Fatalf("app_route on over two clashing authorizations: %v, want a violation on config.app_route", err)
	}
	if _, err := e.c.Delete(e.ctx, &adminv1.DeleteRequest{Kind: model.KindAppAuth, Id: second.Id}); err != nil {
		t.Fatal(err)
	}
	if err := setAppRoute(true); err != nil {
		t.Fatalf("app_route on: %v", err)
	}
	_, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(&apigwv1.AppAuth{ApiId: a2.Id, EnvId: model.ReleaseEnvID, AppId: app.Id})})
	if !hasViolation(t, err, "api_id", "same method and path") {
		t.Fatalf("second authorization with app_route on: %v, want a violation on api_id", err)
	}
}
