package model_test

import (
	"google.golang.org/protobuf/proto"

	"testing"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Frontend paths Envoy can never match are refused: dot segments (Envoy
// resolves them before routing), NUL and other encoded control bytes,
// encoded dots and slashes (decoded before routing), broken escapes.
func TestFrontendPathsThatNeverMatch(t *testing.T) {
	var rules []rule
	for _, c := range []struct{ uri, desc string }{
		{"/a/../b", ". or .."},
		{"/a/./b", ". or .."},
		{"/a/..", ". or .."},
		{"/.", ". or .."},
		{"/a/%00", "control character"},
		{"/a/b%1F", "control character"},
		{"/a/%7f", "control character"},
		{"/a/%2e%2e/b", "encoded"},
		{"/a/v%2E1", "encoded"},
		{"/a/x%2Fy", "encoded"},
		{"/a/x%5cy", "encoded"},
		{"/a/%zz", "escape"},
		{"/a/%4", "escape"},
	} {
		uri := c.uri
		rules = append(rules, rule{"req_uri " + uri, apiWith(func(a *apigwv1.Api) { a.ReqUri = uri }), "req_uri", c.desc})
	}
	run(t, rules)
	lim := model.InstanceLimits(model.EffectiveConfig(&apigwv1.Instance{}))
	for _, uri := range []string{"/v1.0/items", "/a/...", "/a/.well-known/x", "/a/b%20c", "/a/%41"} {
		a := apiWith(func(a *apigwv1.Api) { a.ReqUri = uri; a.ReqParams = nil; a.BackendApi.ReqUri = "/x" })
		model.Normalize(a)
		if vs := model.Validate(a, lim); len(vs) > 0 {
			t.Errorf("%s: %v", uri, vs)
		}
	}
}

// /t/{x} and /t/{y} with the same method in one group are one route: the
// second is a duplicate (as in APIG).
func TestParameterNamesDoNotMakeRoutesDistinct(t *testing.T) {
	objs := sampleObjects() // a1: GET /pets/{id} in g1
	in := model.NewInstance("default", objs)
	for _, c := range []struct {
		method, uri string
		dup         bool
	}{
		{"GET", "/pets/{petId}", true},
		{"GET", "/pets/{id}", true},
		{"POST", "/pets/{petId}", false},
		{"GET", "/pets/{petId+}", false},
		{"GET", "/pets/{petId}/x", false},
		{"GET", "/pets/id", false},
	} {
		b := &apigwv1.Api{Id: "a2", Name: "other_pet", GroupId: "g1", ReqMethod: c.method, ReqUri: c.uri,
			BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/v1"}}
		model.Normalize(b)
		vs := in.With([]proto.Message{b}, nil).Check(b)
		found := false
		for _, v := range vs {
			found = found || v.Field == "req_uri"
		}
		if found != c.dup {
			t.Errorf("%s %s: duplicate reported %v, want %v (%v)", c.method, c.uri, found, c.dup, vs)
		}
	}
}

// Values that become a header, a query parameter or a path may not hold
// control characters.
func TestControlCharactersRefused(t *testing.T) {
	crlf := "a\r\nX-Injected: 1"
	run(t, []rule{
		{"constant header", apiWith(func(a *apigwv1.Api) {
			a.BackendParams = append(a.BackendParams, &apigwv1.BackendParam{Name: "X-C", Location: "HEADER", Origin: "CONSTANT", Value: crlf})
		}), "backend_params[0].value", "control character"},
		{"constant query", apiWith(func(a *apigwv1.Api) {
			a.BackendParams = append(a.BackendParams, &apigwv1.BackendParam{Name: "c", Location: "QUERY", Origin: "CONSTANT", Value: "a\x00b"})
		}), "backend_params[0].value", "control character"},
		{"constant DEL", apiWith(func(a *apigwv1.Api) {
			a.BackendParams = append(a.BackendParams, &apigwv1.BackendParam{Name: "c", Location: "HEADER", Origin: "CONSTANT", Value: "a\x7fb"})
		}), "backend_params[0].value", "control character"},
		{"policy constant", apiWith(func(a *apigwv1.Api) {
			a.PolicyHttps = policyWith(&apigwv1.Condition{ConditionOrigin: "source", ConditionValue: "10.0.0.1"})
			a.PolicyHttps[0].BackendParams = []*apigwv1.BackendParam{{Name: "X-C", Location: "HEADER", Origin: "CONSTANT", Value: crlf}}
		}), "policy_https[0].backend_params[0].value", "control character"},
		{"header default", apiWith(func(a *apigwv1.Api) { a.ReqParams[1].DefaultValue = crlf }), "req_params[1].default_value", "control character"},
		{"query default", apiWith(func(a *apigwv1.Api) { a.ReqParams[0].DefaultValue = "x\ny" }), "req_params[0].default_value", "control character"},
		{"backend path", apiWith(func(a *apigwv1.Api) { a.BackendApi.ReqUri = "/v1/pets/{id}\r\n" }), "backend_api.req_uri", "control character"},
		{"policy backend path", apiWith(func(a *apigwv1.Api) {
			a.PolicyHttps = policyWith(&apigwv1.Condition{ConditionOrigin: "source", ConditionValue: "10.0.0.1"})
			a.PolicyHttps[0].ReqUri = "/x\x00"
		}), "policy_https[0].req_uri", "control character"},
		{"mock header", func() *apigwv1.Api {
			a := validAPI()
			a.BackendType, a.BackendApi, a.MockInfo = "MOCK", nil, &apigwv1.MockInfo{StatusCode: 200, Headers: []*apigwv1.MockHeader{{Key: "X-M", Value: "a\x01b"}}}
			return a
		}(), "mock_info.headers[0].value", "control character"},
		{"response header", &apigwv1.GatewayResponse{GroupId: "g", Name: "x", Responses: map[string]*apigwv1.ResponseInfo{
			"THROTTLED": {Headers: []*apigwv1.ResponseHeader{{Key: "X-A", Value: "a\x1bb"}}}}}, "responses.THROTTLED.headers[0].value", "control character"},
	})
}
