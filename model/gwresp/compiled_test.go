package gwresp_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// A compiled response renders exactly what Render renders, whatever the
// template and the values (escaping, trailing dots, unknown variables,
// error variables, constant and variable headers, values cut to
// gwresp.MaxEcho, control characters left out of headers).
func TestCompiledRendersAsRender(t *testing.T) {
	bodies := []string{
		gwresp.DefaultBody,
		`{"code":"$context.error.code","msg":"$context.error.message.","api":"$context.apiName","id":"$context.requestId","ip":"$context.sourceIp","path":"$context.reqPath"}`,
		`plain $context.requestId.. and $context.nope $context. $$context.stage$context.error.type`,
		`[ "$context.appName", "$context.authorizer.frontend.user" ]`,
		`no variables at all`,
		``,
	}
	values := []string{"", "abc", `quote " back \ slash`, "<tag>&amp;", "ctl\x01\n\t", "é ünïcode \u2028", "bad \xff utf8", "$context.requestId",
		"long " + strings.Repeat("é", 300), "bad \xff with ctl\r\n"}
	for bi, body := range bodies {
		set := &apigwv1.GatewayResponse{Id: "r1", GroupId: "g1", Name: "custom", Responses: map[string]*apigwv1.ResponseInfo{
			"THROTTLED": {Status: 503, Body: body, Headers: []*apigwv1.ResponseHeader{
				{Key: "X-Z", Value: "$context.requestId/$context.error.code"}, {Key: "X-A", Value: "constant"}, {Key: "X-M", Value: "$context.stage."}}},
		}}
		in := model.NewInstance("default", []proto.Message{set})
		for _, v := range values {
			vars := gwresp.Vars{"apiName": v, "requestId": v + "1", "sourceIp": "10.0.0.1", "reqPath": v, "stage": v, "appName": v, "authorizer.frontend.user": v}
			for _, e := range []gwresp.Error{gwresp.ErrThrottled, gwresp.ErrThrottled.With(v)} {
				want := gwresp.Render(in, "g1", "custom", e, vars)
				c := gwresp.Compile(in, "g1", "custom", e)
				lookup := func(name string) string { return vars[name] }
				if got := string(c.AppendBody(nil, lookup)); got != want.Body {
					t.Errorf("body %d, value %q:\ncompiled %q\nrender   %q", bi, v, got, want.Body)
				}
				if c.Status != want.Status || c.ContentType != want.ContentType || c.Headers() != len(want.Headers) {
					t.Fatalf("body %d: status %d %q %d headers, want %d %q %d", bi, c.Status, c.ContentType, c.Headers(), want.Status, want.ContentType, len(want.Headers))
				}
				for i, h := range want.Headers {
					key, value, constant := c.Header(i)
					if !constant {
						value = string(c.AppendHeader(nil, i, lookup))
					}
					if key != h[0] || value != h[1] {
						t.Errorf("header %d: %q: %q, want %q: %q", i, key, value, h[0], h[1])
					}
					if constant != (h[0] == "X-A") {
						t.Errorf("header %q: constant=%v", key, constant)
					}
				}
			}
		}
	}
}
