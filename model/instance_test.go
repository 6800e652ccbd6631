package model_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func sampleObjects() []proto.Message {
	g := &apigwv1.ApiGroup{Id: "g1", Name: "pets", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}, {Domain: "*.pets.example.com"}}}
	api := &apigwv1.Api{Id: "a1", Name: "get_pet", GroupId: "g1", ReqMethod: "GET", ReqUri: "/pets/{id}",
		BackendApi: &apigwv1.BackendApi{UrlDomain: "#host#", ReqUri: "/v1/pets/{id}"}}
	app := &apigwv1.App{Id: "app1", Name: "client", AppKey: "key-0000001", AppSecret: "secret-0001",
		AppCodes: []*apigwv1.AppCode{{Id: "c1", AppCode: "Acode0123456789012345678901234567890123456789012345678901234567890"}}}
	env := &apigwv1.Environment{Id: "e1", Name: "TEST"}
	v := &apigwv1.EnvVariable{Id: "v1", GroupId: "g1", EnvId: "e1", VariableName: "host", VariableValue: "10.0.0.1:8080"}
	objs := []proto.Message{g, api, app, env, v}
	for _, o := range objs {
		model.Normalize(o)
	}
	return objs
}

func TestInstanceIndexes(t *testing.T) {
	in := model.NewInstance("default", sampleObjects())
	if in.Env(model.ReleaseEnvID) == nil || in.EnvByName("RELEASE") == nil {
		t.Fatal("RELEASE environment is not built in")
	}
	if g := in.GroupForHost("API.example.com"); g.GetId() != "g1" {
		t.Errorf("exact domain: got %v", g)
	}
	if g := in.GroupForHost("dogs.pets.example.com"); g.GetId() != "g1" {
		t.Errorf("wildcard domain: got %v", g)
	}
	if g := in.GroupForHost("a.dogs.pets.example.com"); g != nil {
		t.Errorf("wildcard must match one level only, got %v", g.Id)
	}
	if g := in.GroupForHost("g1.apigw.local"); g.GetId() != "g1" {
		t.Errorf("debug domain: got %v", g)
	}
	if a := in.AppByKey("key-0000001"); a.GetId() != "app1" {
		t.Errorf("app by key: %v", a)
	}
	for _, o := range sampleObjects() {
		if vs := model.Validate(o, model.InstanceLimits(in.Config)); len(vs) > 0 {
			t.Errorf("%s: unexpected violations %v", model.KindOf(o).Name, vs)
		}
		if vs := in.Check(o); len(vs) > 0 {
			t.Errorf("%s: unexpected check violations %v", model.KindOf(o).Name, vs)
		}
	}
}

func TestPublicationResolvesVariables(t *testing.T) {
	in := model.NewInstance("default", sampleObjects())
	pub, err := in.Publication("a1", "e1", "p1", "", "", testTime)
	if err != nil {
		t.Fatal(err)
	}
	if got := pub.Api.BackendApi.UrlDomain; got != "10.0.0.1:8080" {
		t.Errorf("url_domain = %q, want the variable's value", got)
	}
	if in.API("a1").BackendApi.UrlDomain != "#host#" {
		t.Error("publishing modified the draft")
	}
	_, err = in.Publication("a1", model.ReleaseEnvID, "p2", "", "", testTime)
	vs, ok := model.AsValidation(err)
	if !ok || len(vs) != 1 || vs[0].Field != "backend_api.url_domain" {
		t.Fatalf("publishing to RELEASE without the variable: got %v", err)
	}
}
