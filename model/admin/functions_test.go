package admin_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// A FUNCTION backend is accepted once the instance's function registry
// maps its URN (alias over version over the function); the registry
// cannot drop a function an API calls; its credential is sealed and never
// read back.
func TestFunctionBackendNeedsTheRegistry(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	const urn = "urn:fss:cn-north-4:p1:function:default:f1"
	api := &apigwv1.Api{Name: "call_fn", GroupId: "pets", ReqMethod: "GET", ReqUri: "/fn", AuthType: "NONE", BackendType: "FUNCTION",
		FuncInfo: &apigwv1.FuncInfo{FunctionUrn: urn, AliasUrn: urn + ":!prod", Version: "v2", InvocationType: "sync", NetworkType: "V2", Timeout: 5000}}
	upsert := func(fns ...*apigwv1.FunctionTarget) error {
		_, err := e.c.Apply(e.ctx, &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{model.Wrap(&apigwv1.Instance{Name: "default", Config: &apigwv1.InstanceConfig{Functions: fns}})}})
		return err
	}
	// Registry entries are validated.
	if err := upsert(&apigwv1.FunctionTarget{Urn: "f1", Url: "ftp://x"}); !hasViolation(t, err, "resources[0].config.functions[0].urn", "function URN") ||
		!hasViolation(t, err, "resources[0].config.functions[0].url", "http(s) URL") {
		t.Errorf("bad registry entry: %v", err)
	}
	// A version entry does not serve an API with an alias.
	if err := upsert(&apigwv1.FunctionTarget{Urn: urn + ":v2", Url: "http://127.0.0.1:1/v2"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(api)})
	if !hasViolation(t, err, "func_info.function_urn", "not in the instance's function registry") {
		t.Errorf("unregistered alias accepted: %v", err)
	}
	if err := upsert(&apigwv1.FunctionTarget{Urn: urn + ":!prod", Url: "http://127.0.0.1:1/prod", Authorization: "Bearer s3cret"}); err != nil {
		t.Fatal(err)
	}
	e.create(t, api)
	// The alias entry cannot be dropped while the API calls it.
	if err := upsert(&apigwv1.FunctionTarget{Urn: urn + ":v2", Url: "http://127.0.0.1:1/v2"}); !hasViolation(t, err, "resources[0].config.functions", "must serve function") {
		t.Errorf("registry dropped a used function: %v", err)
	}
	got, err := e.c.Get(e.ctx, &adminv1.GetRequest{Kind: model.KindInstance, Id: "default"})
	if err != nil {
		t.Fatal(err)
	}
	inst, _ := model.Unwrap(got.GetResource())
	fns := inst.(*apigwv1.Instance).GetConfig().GetFunctions()
	if len(fns) != 1 || fns[0].Url != "http://127.0.0.1:1/prod" || fns[0].Authorization != "" {
		t.Errorf("read back %v; want the entry without its credential", fns)
	}

	// A function authorizer likewise needs the registry.
	az := &apigwv1.Authorizer{Name: "fn_auth", Type: "FRONTEND", AuthorizerType: "FUNC", AuthorizerUri: "urn:fss:cn-north-4:p1:function:default:authz", NetworkType: "V2", Timeout: 3000,
		Identities: []*apigwv1.Identity{{Name: "X-Token", Location: "HEADER"}}}
	_, err = e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(az)})
	if !hasViolation(t, err, "authorizer_uri", "not in the instance's function registry") {
		t.Errorf("unregistered function authorizer accepted: %v", err)
	}
	if err := upsert(&apigwv1.FunctionTarget{Urn: urn + ":!prod", Url: "http://127.0.0.1:1/prod"}, &apigwv1.FunctionTarget{Urn: az.AuthorizerUri, Url: "http://127.0.0.1:1/authz"}); err != nil {
		t.Fatal(err)
	}
	e.create(t, az)
	if err := upsert(&apigwv1.FunctionTarget{Urn: urn + ":!prod", Url: "http://127.0.0.1:1/prod"}); !hasViolation(t, err, "resources[0].config.functions", "authorizer") {
		t.Errorf("registry dropped a function an authorizer calls: %v", err)
	}
	// Changing the authorizer to a function the registry does not serve
	// is refused at the field.
	az2 := proto.Clone(az).(*apigwv1.Authorizer)
	az2.AuthorizerUri = "urn:fss:cn-north-4:p1:function:default:authz2"
	if _, err := e.c.Apply(e.ctx, &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{model.Wrap(az2)}}); !hasViolation(t, err, "resources[0].authorizer_uri", "function registry") {
		t.Errorf("authorizer moved to an unregistered alias: %v", err)
	}
	// One apply may add the registry entry and the authorizer that calls it.
	_, err = e.c.Apply(e.ctx, &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{
		model.Wrap(&apigwv1.Instance{Name: "default", Config: &apigwv1.InstanceConfig{Functions: []*apigwv1.FunctionTarget{
			{Urn: urn + ":!prod", Url: "http://127.0.0.1:1/prod"}, {Urn: az.AuthorizerUri, Url: "http://127.0.0.1:1/authz"}, {Urn: az2.AuthorizerUri, Url: "http://127.0.0.1:1/authz2"}}}}),
		model.Wrap(az2)}})
	if err != nil {
		t.Errorf("registry entry and authorizer in one apply: %v", err)
	}
}
