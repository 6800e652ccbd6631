package functions_test

import (
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apigw/apigw/functions"
)

// The event carries APIG's trigger fields: method, path, path parameters
// of the frontend template, query, lower-case headers without the
// gateway's internal ones, the request context, and the body base64 or
// plain per is_send_fg_body_base64.
func TestBuildEvent(t *testing.T) {
	r := httptest.NewRequest("POST", "http://shop.example.com/pets/7/files/a/b%20c?x=1&x=2&y=3", strings.NewReader("héllo"))
	r.Header.Set("X-Request-Id", "req-1")
	r.Header.Add("Accept", "a")
	r.Header.Add("Accept", "b")
	r.Header.Set("X-Forwarded-For", "198.51.100.9, 10.0.0.1")
	r.Header.Set("X-Apigw-Function-Api", "a1")
	r.Header.Set("X-Envoy-Expected-Rq-Timeout-Ms", "5000")
	c := functions.Call{APIID: "a1", Stage: "RELEASE", ReqURI: "/pets/{id}/files/{rest+}", Base64: true}
	ev := functions.BuildEvent(r, []byte("héllo"), c)
	if ev.HTTPMethod != "POST" || ev.Path != "/pets/7/files/a/b c" {
		t.Errorf("method/path %q %q", ev.HTTPMethod, ev.Path)
	}
	if ev.PathParameters["id"] != "7" || ev.PathParameters["rest"] != "a/b c" {
		t.Errorf("path parameters %v", ev.PathParameters)
	}
	if ev.QueryStringParameters["x"] != "1,2" || ev.QueryStringParameters["y"] != "3" {
		t.Errorf("query %v", ev.QueryStringParameters)
	}
	if ev.Headers["accept"] != "a,b" || ev.Headers["host"] != "shop.example.com" {
		t.Errorf("headers %v", ev.Headers)
	}
	for k := range ev.Headers {
		if strings.HasPrefix(k, "x-apigw-function-") || strings.HasPrefix(k, "x-envoy-") {
			t.Errorf("internal header %s in the event", k)
		}
	}
	if ev.RequestContext != (functions.RequestContext{APIID: "a1", RequestID: "req-1", Stage: "RELEASE", SourceIP: "10.0.0.1"}) {
		t.Errorf("request context %+v", ev.RequestContext)
	}
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString([]byte("héllo")) {
		t.Errorf("base64 body %q", ev.Body)
	}
	c.Base64 = false
	if ev := functions.BuildEvent(r, []byte("héllo"), c); ev.IsBase64Encoded || ev.Body != "héllo" {
		t.Errorf("plain body %q (base64 %v)", ev.Body, ev.IsBase64Encoded)
	}
}

// A reply needs statusCode; a base64 body is decoded; hop-by-hop headers
// are not copied.
func TestReply(t *testing.T) {
	for _, bad := range []string{`{"body":"x"}`, `not json`, `{"statusCode":700}`, `{"statusCode":200,"isBase64Encoded":true,"body":"%%"}`} {
		if _, _, err := functions.ParseReply([]byte(bad)); err == nil {
			t.Errorf("reply %s accepted", bad)
		}
	}
	rep, body, err := functions.ParseReply([]byte(`{"statusCode":201,"headers":{"X-A":"1","Connection":"close"},"body":"` + base64.StdEncoding.EncodeToString([]byte{0, 1, 2}) + `","isBase64Encoded":true}`))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	functions.WriteReply(w, rep, body)
	if w.Code != 201 || w.Header().Get("X-A") != "1" || w.Header().Get("Connection") != "" || w.Body.String() != "\x00\x01\x02" {
		t.Errorf("response %d %v %q", w.Code, w.Header(), w.Body.String())
	}
	rep, body, err = functions.ParseReply([]byte(`{"statusCode":200,"body":"plain"}`))
	if err != nil || string(body) != "plain" || rep.StatusCode != 200 {
		t.Errorf("plain reply %v %q %v", rep, body, err)
	}
}
