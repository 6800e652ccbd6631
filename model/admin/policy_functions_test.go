package admin_test

import (
	"testing"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// A FUNCTION policy backend is accepted when the instance's function
// registry maps its function, refused at policy_functions[i].function_urn
// otherwise (not at the default backend's); the registry cannot drop
// the policy's function; a FUNCTION policy backend on an HTTP API, or
// with an invalid invocation type, is refused at its field.
func TestFunctionPolicyBackendNeedsTheRegistry(t *testing.T) {
	e := setup(t)
	e.create(t, &apigwv1.ApiGroup{Name: "pets"})
	const urn = "urn:fss:cn-north-4:p1:function:default:"
	api := &apigwv1.Api{Name: "call_fn", GroupId: "pets", ReqMethod: "GET", ReqUri: "/fn", AuthType: "NONE", BackendType: "FUNCTION",
		FuncInfo: &apigwv1.FuncInfo{FunctionUrn: urn + "f1", InvocationType: "sync", NetworkType: "V2", Timeout: 5000},
		PolicyFunctions: []*apigwv1.PolicyFunction{
			{Name: "beta", EffectMode: "ANY", FunctionUrn: urn + "f1", InvocationType: "sync", NetworkType: "V2", Timeout: 5000,
				Conditions: []*apigwv1.Condition{{ConditionOrigin: "source", ConditionValue: "10.0.0.0/8"}}},
			{Name: "canary", EffectMode: "ANY", FunctionUrn: urn + "f2", AliasUrn: urn + "f2:!canary", InvocationType: "async", NetworkType: "V2", Timeout: 5000,
				Conditions: []*apigwv1.Condition{{ConditionOrigin: "source", ConditionValue: "192.168.0.0/16"}}},
		}}
	upsert := func(fns ...*apigwv1.FunctionTarget) error {
		_, err := e.c.Apply(e.ctx, &adminv1.ApplyRequest{Resources: []*apigwv1.Resource{model.Wrap(&apigwv1.Instance{Name: "default", Config: &apigwv1.InstanceConfig{Functions: fns}})}})
		return err
	}
	f1 := &apigwv1.FunctionTarget{Urn: urn + "f1", Url: "http://127.0.0.1:1/f1"}
	if err := upsert(f1, &apigwv1.FunctionTarget{Urn: urn + "f2", Url: "http://127.0.0.1:1/f2"}); err != nil {
		t.Fatal(err)
	}
	// The policy's alias has no entry of its own: the function's entry serves it.
	_, err := e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(api)})
	if err != nil {
		t.Fatalf("alias falls back to the function URN: %v", err)
	}
	// Without the policy's function the API is refused at the policy's field, not the default's.
	if err := upsert(f1); !hasViolation(t, err, "resources[0].config.functions", "policy_functions[1]") {
		t.Errorf("registry dropped a function a policy backend calls: %v", err)
	}
	api2 := &apigwv1.Api{Name: "call_fn2", GroupId: "pets", ReqMethod: "GET", ReqUri: "/fn2", AuthType: "NONE", BackendType: "FUNCTION",
		FuncInfo: api.FuncInfo,
		PolicyFunctions: []*apigwv1.PolicyFunction{{Name: "gamma", EffectMode: "ANY", FunctionUrn: urn + "f3", InvocationType: "sideways", NetworkType: "V2", Timeout: 5000,
			Conditions: []*apigwv1.Condition{{ConditionOrigin: "source", ConditionValue: "10.0.0.0/8"}}}}}
	_, err = e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(api2)})
	if !hasViolation(t, err, "policy_functions[0].function_urn", "not in the instance's function registry") || !hasViolation(t, err, "policy_functions[0].invocation_type", "must be one of") {
		t.Errorf("unregistered policy function: %v", err)
	}
	if hasViolation(t, err, "func_info.function_urn", "function registry") {
		t.Errorf("the default backend's registered function was blamed: %v", err)
	}
	api3 := &apigwv1.Api{Name: "call_http", GroupId: "pets", ReqMethod: "GET", ReqUri: "/h", AuthType: "NONE",
		BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", ReqMethod: "GET", UrlDomain: "10.0.0.1:80", ReqUri: "/h", Timeout: 3000},
		PolicyFunctions: []*apigwv1.PolicyFunction{{Name: "delta", EffectMode: "ANY", FunctionUrn: urn + "f1", InvocationType: "sync", NetworkType: "V2", Timeout: 5000,
			Conditions: []*apigwv1.Condition{{ConditionOrigin: "source", ConditionValue: "10.0.0.0/8"}}}}}
	_, err = e.c.Create(e.ctx, &adminv1.CreateRequest{Resource: model.Wrap(api3)})
	if !hasViolation(t, err, "policy_functions", "need backend_type FUNCTION") {
		t.Errorf("FUNCTION policy backend on an HTTP API: %v", err)
	}
}
