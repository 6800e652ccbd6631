package functions_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/functions"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// policyFeed serves API a1 with a default FUNCTION backend (function f1,
// sync) and a FUNCTION policy backend "beta" (function f2 through its
// alias, invoked as polInvocation says).
func policyFeed(t testing.TB, defURL, polURL, polInvocation string) *live.Feed {
	t.Helper()
	const urn = "urn:fss:cn-north-4:p1:function:default:"
	api := &apigwv1.Api{Id: "a1", Name: "call_fn", GroupId: "g1", ReqMethod: "ANY", ReqUri: "/pets/{id}", BackendType: model.BackendFunction,
		FuncInfo: &apigwv1.FuncInfo{FunctionUrn: urn + "f1", InvocationType: "sync", NetworkType: "V2", Timeout: timeoutMS},
		PolicyFunctions: []*apigwv1.PolicyFunction{{Name: "beta", EffectMode: "ANY", FunctionUrn: urn + "f2", AliasUrn: urn + "f2:!beta",
			InvocationType: polInvocation, NetworkType: "V2", Timeout: timeoutMS,
			Conditions: []*apigwv1.Condition{{ConditionOrigin: "source", ConditionValue: "10.0.0.0/8"}}}}}
	objs := []proto.Message{
		&apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{Functions: []*apigwv1.FunctionTarget{
			{Urn: urn + "f1", Url: defURL},
			{Urn: urn + "f2", Url: "http://127.0.0.1:1/unused"},
			{Urn: urn + "f2:!beta", Url: polURL},
		}}},
		&apigwv1.ApiGroup{Id: "g1", Name: "shop"},
		api,
		&apigwv1.Publication{Id: "p1", ApiId: "a1", EnvId: model.ReleaseEnvID, Api: api},
		&apigwv1.Release{ApiId: "a1", EnvId: model.ReleaseEnvID, PublicationId: "p1"},
	}
	f := live.NewFeed()
	f.Publish(live.NewSnapshot(1, map[string]*model.Instance{model.DefaultInstance: model.NewInstance(model.DefaultInstance, objs)}, nil))
	return f
}

func callPolicy(h http.Handler, policy string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/pets/42", strings.NewReader("x"))
	r.Header.Set(dataplane.FunctionInstanceHeader, model.DefaultInstance)
	r.Header.Set(dataplane.FunctionAPIHeader, "a1")
	r.Header.Set(dataplane.FunctionEnvHeader, model.ReleaseEnvID)
	if policy != "" {
		r.Header.Set(dataplane.FunctionPolicyHeader, policy)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func replying(body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"statusCode":200,"body":"`+body+`"}`)
	}))
}

// The policy header names the FUNCTION policy backend whose function is
// called (its alias's registry entry); without it the default backend's
// function is; a policy the API does not have is refused (502), never
// served by another function.
func TestPolicyFunctionIsCalledForItsPolicy(t *testing.T) {
	def, pol := replying("default"), replying("beta")
	defer def.Close()
	defer pol.Close()
	s := functions.New(context.Background(), policyFeed(t, def.URL, pol.URL, "sync"), slog.New(slog.DiscardHandler), functions.Options{})
	if w := callPolicy(s, ""); w.Code != 200 || w.Body.String() != "default" {
		t.Errorf("default backend: %d %q", w.Code, w.Body.String())
	}
	if w := callPolicy(s, "beta"); w.Code != 200 || w.Body.String() != "beta" {
		t.Errorf("policy beta: %d %q", w.Code, w.Body.String())
	}
	if w := callPolicy(s, "gamma"); w.Code != 502 || strings.Contains(w.Body.String(), "default") {
		t.Errorf("unknown policy: %d %q", w.Code, w.Body.String())
	}
}

// A policy's invocation type is its own: async for the policy answers at
// once and calls the policy's function in the background.
func TestPolicyFunctionInvocationType(t *testing.T) {
	var calls atomic.Int32
	called := make(chan struct{}, 1)
	pol := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		called <- struct{}{}
		_, _ = io.WriteString(w, `{"statusCode":200,"body":"late"}`)
	}))
	defer pol.Close()
	def := replying("default")
	defer def.Close()
	s := functions.New(context.Background(), policyFeed(t, def.URL, pol.URL, "async"), slog.New(slog.DiscardHandler), functions.Options{})
	w := callPolicy(s, "beta")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "request_id") {
		t.Fatalf("async policy: %d %q", w.Code, w.Body.String())
	}
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("the policy's function was not called in the background")
	}
	if w := callPolicy(s, ""); w.Body.String() != "default" {
		t.Errorf("default backend stays sync: %q", w.Body.String())
	}
}
