package extauth_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// A backend called with another method than the client's: ext_authz sets
// :method to the backend's and marks the request for the backend's route
// variant; the selected policy backend's own method wins; a client that
// already uses the backend's method (ANY frontend) is left alone; a
// request that arrives with the marker is refused (it would pick a route
// of its own choosing).
func TestBackendMethodIsSetByExtAuthz(t *testing.T) {
	getPost := &apigwv1.Api{Id: "orders", Name: "orders", GroupId: "g1", ReqMethod: "GET", ReqUri: "/orders", AuthType: "NONE", ReqProtocol: "HTTPS",
		ReqParams:  []*apigwv1.ReqParam{{Name: "tier", Location: "HEADER"}},
		BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", ReqMethod: "POST", UrlDomain: "10.0.0.1:8080", ReqUri: "/v1/orders", Timeout: 3000},
		PolicyHttps: []*apigwv1.PolicyHttp{{Name: "gold", ReqProtocol: "HTTP", ReqMethod: "PUT", UrlDomain: "10.0.0.2:8080", ReqUri: "/gold", Timeout: 3000,
			Conditions: []*apigwv1.Condition{{ConditionOrigin: "param", ReqParamName: "tier", ConditionType: "exact", ConditionValue: "gold"}}}}}
	anyGet := &apigwv1.Api{Id: "search", Name: "search", GroupId: "g1", ReqMethod: "ANY", ReqUri: "/search", AuthType: "NONE", ReqProtocol: "HTTPS",
		BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", ReqMethod: "GET", UrlDomain: "10.0.0.3:8080", ReqUri: "/search", Timeout: 3000}}
	objs := []proto.Message{&apigwv1.ApiGroup{Id: "g1", Name: "group1", UrlDomains: []*apigwv1.UrlDomain{{Domain: "api.example.com"}}}, getPost, anyGet}
	h := newHarness(t, published(t, model.DefaultInstance, objs, [2]string{"orders", model.ReleaseEnvID}, [2]string{"search", model.ReleaseEnvID}))

	tests := []struct {
		name       string
		req        envoyRequest
		wantMethod string // "" = unchanged
		wantMarker string
	}{
		{"default backend", envoyRequest{api: "orders", path: "/orders"}, "POST", dataplane.ExtAuthzMethodRoute("orders", model.ReleaseEnvID, "")},
		{"policy backend", envoyRequest{api: "orders", path: "/orders", headers: map[string]string{"tier": "gold"}}, "PUT", dataplane.ExtAuthzMethodRoute("orders", model.ReleaseEnvID, "gold")},
		{"ANY frontend, other method", envoyRequest{api: "search", method: "DELETE", path: "/search"}, "GET", dataplane.ExtAuthzMethodRoute("search", model.ReleaseEnvID, "")},
		{"ANY frontend, the backend's method", envoyRequest{api: "search", method: "GET", path: "/search"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := allowedResp(t, h.check(tt.req.checkRequest()))
			if got := a.headers[":method"]; got != tt.wantMethod {
				t.Errorf(":method set to %q, want %q", got, tt.wantMethod)
			}
			if got := a.headers[dataplane.ExtAuthzMethodHeader]; got != tt.wantMarker {
				t.Errorf("%s set to %q, want %q", dataplane.ExtAuthzMethodHeader, got, tt.wantMarker)
			}
		})
	}
	forged := envoyRequest{api: "orders", method: "POST", path: "/orders", headers: map[string]string{dataplane.ExtAuthzMethodHeader: dataplane.ExtAuthzMethodRoute("orders", model.ReleaseEnvID, "")}}
	if status, b, _ := denied(t, h.check(forged.checkRequest())); status != 404 || b.Code != "APIG.0101" {
		t.Errorf("forged marker: %d %s, want 404 APIG.0101", status, b.Code)
	}
}
