package extauth_test

import (
	"testing"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// FUNCTION policy backends are selected like HTTP ones: the first policy
// whose conditions hold (HTTP, then FUNCTION, then mock order; here only
// FUNCTION policies) is named in the selection header and metadata, with
// its backend parameters applied; none holding selects the default.
func TestFunctionPolicyBackendSelection(t *testing.T) {
	const urn = "urn:fss:cn-north-4:p1:function:default:"
	f := newFixture("", &apigwv1.InstanceConfig{Functions: []*apigwv1.FunctionTarget{{Urn: urn + "f1", Url: "http://fn.internal/f1"}}})
	f.api(&apigwv1.Api{Id: "api-fnpol", Name: "fnpol", ReqUri: "/fnpol", BackendType: model.BackendFunction,
		FuncInfo: &apigwv1.FuncInfo{FunctionUrn: urn + "f1", InvocationType: "sync", NetworkType: "V2", Timeout: 3000},
		PolicyFunctions: []*apigwv1.PolicyFunction{
			{Name: "lan_fn", FunctionUrn: urn + "f1", InvocationType: "sync", NetworkType: "V2", Timeout: 3000,
				Conditions:    []*apigwv1.Condition{{ConditionOrigin: model.CondSource, ConditionValue: "10.0.0.0/8"}},
				BackendParams: []*apigwv1.BackendParam{{Name: "X-Lan", Location: model.LocHeader, Origin: model.OriginConstant, Value: "yes"}}},
			{Name: "beta_fn", FunctionUrn: urn + "f1", InvocationType: "async", NetworkType: "V2", Timeout: 3000,
				Conditions: []*apigwv1.Condition{{ConditionOrigin: model.CondCookie, CookieParamName: "beta", ConditionType: model.CondPattern, ConditionValue: "^on"}}},
		}})
	h := newHarness(t, f.instance(t))
	for _, c := range []struct {
		name, peer string
		hdrs       map[string]string
		policy     string
	}{
		{name: "default", peer: "198.51.100.7"},
		{name: "source", peer: "10.1.2.3", policy: "lan_fn"},
		{name: "cookie", hdrs: map[string]string{"cookie": "beta=onward"}, policy: "beta_fn"},
		{name: "first wins", peer: "10.1.2.3", hdrs: map[string]string{"cookie": "beta=on"}, policy: "lan_fn"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := allowedResp(t, h.check(envoyRequest{api: "api-fnpol", path: "/fnpol", peer: c.peer, headers: c.hdrs}.checkRequest()))
			if got := a.headers[dataplane.ExtAuthzPolicyHeader]; got != c.policy || (c.policy != "" && a.meta[dataplane.ExtAuthzMetaPolicy] != c.policy) {
				t.Errorf("policy header %q, metadata %q; want %q", got, a.meta[dataplane.ExtAuthzMetaPolicy], c.policy)
			}
			if (c.policy == "lan_fn") != (a.headers["x-lan"] == "yes") {
				t.Errorf("policy backend parameters: %v", a.headers)
			}
		})
	}
}
