package model_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// With config.app_route on, an app cannot be authorized for two APIs with
// the same method and path in one environment: the binding is refused at
// api_id, and turning app_route on over such bindings at config.app_route.
func TestAppRouteClashes(t *testing.T) {
	api := func(id, method, uri string) *apigwv1.Api {
		return &apigwv1.Api{Id: id, Name: "api_" + id, GroupId: "g1", ReqMethod: method, ReqUri: uri, MatchMode: "NORMAL", AuthType: model.AuthApp}
	}
	env := &apigwv1.Environment{Id: model.ReleaseEnvID, Name: model.ReleaseEnvName}
	env2 := &apigwv1.Environment{Id: "e2", Name: "TEST"}
	app := &apigwv1.App{Id: "app1", Name: "app_one"}
	g := &apigwv1.ApiGroup{Id: "g1", Name: "shop"}
	auth := func(id, apiID, envID string) *apigwv1.AppAuth {
		return &apigwv1.AppAuth{Id: id, ApiId: apiID, EnvId: envID, AppId: "app1"}
	}
	field := func(vs model.Violations, f string) bool {
		for _, v := range vs {
			if v.Field == f {
				return true
			}
		}
		return false
	}
	def := func(on bool) *apigwv1.Instance {
		return &apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{AppRoute: on}}
	}
	base := []proto.Message{g, env, env2, app,
		api("a1", "GET", "/items/{id}"), api("a2", "GET", "/items/{key}"), api("a3", "ANY", "/items/{x}"),
		api("a4", "POST", "/items/{id}"), api("a5", "GET", "/orders/{id}")}
	with := func(on bool, more ...proto.Message) *model.Instance {
		return model.NewInstance(model.DefaultInstance, append(append([]proto.Message{def(on)}, base...), more...))
	}
	for _, c := range []struct {
		name  string
		other string
		env   string
		clash bool
	}{
		{"same method and path, other parameter name", "a2", model.ReleaseEnvID, true},
		{"ANY and GET on one path", "a3", model.ReleaseEnvID, true},
		{"other method", "a4", model.ReleaseEnvID, false},
		{"other path", "a5", model.ReleaseEnvID, false},
		{"other environment", "a2", "e2", false},
	} {
		first, second := auth("x1", "a1", model.ReleaseEnvID), auth("x2", c.other, c.env)
		vs := with(true, first, second).Check(second)
		if got := field(vs, "api_id"); got != c.clash {
			t.Errorf("%s: violations %v, want a clash on api_id: %v", c.name, vs, c.clash)
		}
		if vs := with(false, first, second).Check(second); len(vs) > 0 {
			t.Errorf("%s: app_route off: violations %v", c.name, vs)
		}
		in := with(false, first, second)
		if got := field(in.Check(def(true)), "config.app_route"); got != c.clash {
			t.Errorf("%s: turning app_route on: clash %v, want %v", c.name, got, c.clash)
		}
		if vs := in.Check(def(false)); field(vs, "config.app_route") {
			t.Errorf("%s: app_route off refused: %v", c.name, vs)
		}
	}

	// An API (or its publication) whose new path gives an authorized app
	// the same method and path twice is refused too.
	moved := api("a5", "GET", "/items/{z}")
	moved.GroupId = "g2"
	g2 := &apigwv1.ApiGroup{Id: "g2", Name: "stock"}
	in := with(true, g2, auth("x1", "a1", model.ReleaseEnvID), auth("x2", "a5", model.ReleaseEnvID), moved)
	if vs := in.Check(moved); !field(vs, "req_uri") || !strings.Contains(fmt.Sprint(vs), "app_route") {
		t.Errorf("API moved onto another authorized API's path: violations %v, want req_uri", vs)
	}
	pub := &apigwv1.Publication{Id: "p1", ApiId: "a5", EnvId: model.ReleaseEnvID, Api: moved}
	if vs := in.Check(pub); !field(vs, "api.req_uri") {
		t.Errorf("publication onto another authorized API's path: violations %v, want api.req_uri", vs)
	}
	rel := &apigwv1.Release{ApiId: "a5", EnvId: model.ReleaseEnvID, PublicationId: "p1"}
	if vs := with(true, g2, auth("x1", "a1", model.ReleaseEnvID), auth("x2", "a5", model.ReleaseEnvID), moved, pub, rel).Check(rel); !field(vs, "publication_id") {
		t.Errorf("release of a publication onto another authorized API's path: violations %v, want publication_id", vs)
	}
	if vs := with(false, g2, auth("x1", "a1", model.ReleaseEnvID), auth("x2", "a5", model.ReleaseEnvID), moved).Check(moved); len(vs) > 0 {
		t.Errorf("app_route off: API refused: %v", vs)
	}
}
