package extauth_test

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// A client value mapped into a backend header never carries a control
// character onto the wire: the request is refused with
// REQUEST_PARAMETERS_FAILURE, and no header mutation holds one.
func TestNoControlCharactersInHeaderMutations(t *testing.T) {
	f := newFixture("", nil)
	f.api(&apigwv1.Api{Id: "api-echo", Name: "echo", ReqUri: "/echo",
		ReqParams: []*apigwv1.ReqParam{{Name: "q", Location: model.LocQuery}, {Name: "session", Location: model.LocCookie}},
		BackendParams: []*apigwv1.BackendParam{
			{Name: "X-Q", Location: model.LocHeader, Origin: model.OriginRequest, Value: "q"},
			{Name: "X-Session", Location: model.LocHeader, Origin: model.OriginRequest, Value: "session"},
		}})
	h := newHarness(t, f.instance(t))
	for _, c := range []struct {
		path   string
		cookie string
	}{
		{path: "/echo?q=a%0D%0AX-Injected:%201"},
		{path: "/echo?q=a%0Ab"},
		{path: "/echo?q=a%00b"},
		{path: "/echo?q=a%01b"},
		{path: "/echo?q=a%1Bb"},
		{path: "/echo?q=a%7Fb"},
		{path: "/echo", cookie: "session=a\x01b"},
	} {
		t.Run(c.path+c.cookie, func(t *testing.T) {
			r := envoyRequest{api: "api-echo", path: c.path}
			if c.cookie != "" {
				r.headers = map[string]string{"cookie": c.cookie}
			}
			resp := h.check(r.checkRequest())
			for _, hv := range resp.GetOkResponse().GetHeaders() {
				if model.HasControl(hv.GetHeader().GetValue()) {
					t.Fatalf("header mutation %s=%q holds a control character", hv.GetHeader().GetKey(), hv.GetHeader().GetValue())
				}
			}
			status, b, _ := denied(t, resp)
			if status != 400 || b.Code != "APIG.0106" || metaOf(resp)[dataplane.ExtAuthzMetaErrorType] != "REQUEST_PARAMETERS_FAILURE" {
				t.Errorf("got %d %+v", status, b)
			}
		})
	}
	// A tab is a legal header character and stays.
	a := allowedResp(t, h.check(envoyRequest{api: "api-echo", path: "/echo?q=a%09b"}.checkRequest()))
	if a.headers["x-q"] != "a\tb" {
		t.Errorf("x-q = %q", a.headers["x-q"])
	}
}

// A denial never echoes unbounded client input: an unknown 1 MB app key
// comes back cut short.
func TestDenialsDoNotEchoUnboundedInput(t *testing.T) {
	h := newHarness(t, newFixture("", nil).instance(t))
	key := strings.Repeat("k", 1<<20)
	resp := h.check(signed("api-app", "GET", "/pets/1", nil, "", key, secret1, testNow).checkRequest())
	status, b, _ := denied(t, resp)
	if status != 401 || b.Code != "APIG.0303" {
		t.Fatalf("got %d %+v", status, b)
	}
	if n := len(resp.GetDeniedResponse().GetBody()); n > 2048 {
		t.Errorf("the 401 body is %d bytes: the app key is echoed unbounded", n)
	}
	if !strings.Contains(b.Msg, "appkey kkkk") {
		t.Errorf("message %q does not show the start of the key", b.Msg)
	}
	if n := len(metaOf(resp)[dataplane.ExtAuthzMetaErrorMessage]); n > 1024 {
		t.Errorf("error_message metadata is %d bytes", n)
	}
}
