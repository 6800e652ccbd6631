package gwresp_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// A template that echoes request values ($context.reqUri, an authorizer's
// context) renders each cut to gwresp.MaxEcho bytes.
func TestRenderBoundsEchoedValues(t *testing.T) {
	in := model.NewInstance("default", []proto.Message{&apigwv1.GatewayResponse{Id: "r1", GroupId: "g1", Name: "default",
		Responses: map[string]*apigwv1.ResponseInfo{"AUTH_FAILURE": {
			Body:    `{"uri":"$context.reqUri","user":"$context.authorizer.frontend.user","msg":"$context.error.message"}`,
			Headers: []*apigwv1.ResponseHeader{{Key: "X-Uri", Value: "$context.reqUri"}}}}}})
	huge := "/" + strings.Repeat("é", 1<<19)
	r := gwresp.Render(in, "g1", "", gwresp.ErrAppAuth.With(huge), gwresp.Vars{"reqUri": huge, "authorizer.frontend.user": huge})
	if n := len(r.Body); n > 4*gwresp.MaxEcho+200 {
		t.Errorf("body is %d bytes", n)
	}
	if !utf8.ValidString(r.Body) {
		t.Error("body is not valid UTF-8 after cutting")
	}
	for _, h := range r.Headers {
		if len(h[1]) > gwresp.MaxEcho || !strings.HasSuffix(h[1], "...") {
			t.Errorf("header %s is %d bytes: %q...", h[0], len(h[1]), h[1][:20])
		}
	}
	if got := gwresp.Clip("short", 10); got != "short" {
		t.Errorf("Clip short = %q", got)
	}
	if got := gwresp.Clip("ééééé", 7); got != "éé..." || !utf8.ValidString(got) {
		t.Errorf("Clip = %q", got)
	}
}

// A header value rendered from request values never carries a control
// character (an authorizer's context value with CR LF cannot split it).
func TestRenderedHeadersHoldNoControls(t *testing.T) {
	in := model.NewInstance("default", []proto.Message{&apigwv1.GatewayResponse{Id: "r1", GroupId: "g1", Name: "default",
		Responses: map[string]*apigwv1.ResponseInfo{"AUTHORIZER_FAILURE": {
			Headers: []*apigwv1.ResponseHeader{{Key: "X-User", Value: "user=$context.authorizer.frontend.user"}}}}}})
	r := gwresp.Render(in, "g1", "", gwresp.ErrAuthorizerDenied, gwresp.Vars{"authorizer.frontend.user": "bob\r\nSet-Cookie: x=1\x00\tend"})
	if len(r.Headers) != 1 || r.Headers[0][1] != "user=bobSet-Cookie: x=1\tend" || model.HasControl(strings.ReplaceAll(r.Headers[0][1], "\t", "")) {
		t.Errorf("headers %q", r.Headers)
	}
}
