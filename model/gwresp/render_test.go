package gwresp_test

import (
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func TestRenderDefaultBodyIsValidJSONWhateverTheValues(t *testing.T) {
	in := model.NewInstance("default", nil)
	r := gwresp.Render(in, "g1", "", gwresp.ErrAppAuth.With(`app not found, appkey "x\y`), gwresp.Vars{"requestId": "abc"})
	if r.Status != 401 || r.ContentType != "application/json" {
		t.Fatalf("status %d content type %q", r.Status, r.ContentType)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
	}
	want := map[string]string{"error_code": "APIG.0303", "error_msg": `Incorrect app authentication information: app not found, appkey "x\y`, "request_id": "abc"}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %q, want %q", k, body[k], v)
		}
	}
}

func TestRenderUsesTheAPIsResponseSet(t *testing.T) {
	set := &apigwv1.GatewayResponse{Id: "r1", GroupId: "g1", Name: "custom", Responses: map[string]*apigwv1.ResponseInfo{
		"THROTTLED": {Status: 503, Body: `{"code":"$context.error.code","api":"$context.apiId","who":"$context.authorizer.frontend.user"}`,
			Headers: []*apigwv1.ResponseHeader{{Key: "Retry-After", Value: "10"}, {Key: "X-Stage", Value: "$context.stage"}}},
	}}
	def := &apigwv1.GatewayResponse{Id: "r0", GroupId: "g1", Name: "default", Responses: map[string]*apigwv1.ResponseInfo{
		"THROTTLED": {Body: "slow down"},
	}}
	in := model.NewInstance("default", []proto.Message{set, def})
	vars := gwresp.Vars{"apiId": "a1", "stage": "RELEASE", "authorizer.frontend.user": "bob"}
	r := gwresp.Render(in, "g1", "custom", gwresp.ErrThrottled, vars)
	if r.Status != 503 || r.Body != `{"code":"APIG.0308","api":"a1","who":"bob"}` {
		t.Errorf("custom set: %d %s", r.Status, r.Body)
	}
	if len(r.Headers) != 2 || r.Headers[1] != [2]string{"X-Stage", "RELEASE"} {
		t.Errorf("headers: %v", r.Headers)
	}
	// Without response_id the group's "default" set applies; its status
	// falls back to the error's.
	r = gwresp.Render(in, "g1", "", gwresp.ErrThrottled, vars)
	if r.Status != 429 || r.Body != "slow down" || r.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("default set: %d %q %q", r.Status, r.Body, r.ContentType)
	}
	// Another group keeps the built-in default.
	r = gwresp.Render(in, "g2", "", gwresp.ErrThrottled, vars)
	if r.Status != 429 || r.Body == "slow down" {
		t.Errorf("other group: %d %q", r.Status, r.Body)
	}
}
