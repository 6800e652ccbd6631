package functions_test

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/functions"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// An open breaker's func downgrade (policy breaker:default or
// breaker:<rule>) calls the function of the breaker plug-in bound to the
// API, whatever the API's own backend; a downgrade the plug-in does not
// have is refused, and an HTTP API's default backend is never a function.
func TestBreakerFuncDowngradeIsCalled(t *testing.T) {
	const urn = "urn:fss:cn-north-4:p1:function:default:"
	def, rule := replying("fallback"), replying("rule fallback")
	defer def.Close()
	defer rule.Close()
	api := &apigwv1.Api{Id: "a1", Name: "http_api", GroupId: "g1", ReqMethod: "GET", ReqUri: "/pets/{id}", BackendType: model.BackendHTTP,
		BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/"}}
	content := `{"breaker_condition":{"breaker_type":"timeout","unhealthy_threshold":1,"time_window":10,"open_breaker_time":30},` +
		`"downgrade_default":{"type":"func","func_info":{"function_urn":"` + urn + `fb"}},` +
		`"downgrade_rules":[{"rule_name":"slow","parameters":[{"name":"m","type":"method","value":"method"}],"match_regex":"[\"m\",\"==\",\"PUT\"]",` +
		`"downgrade_backend":{"type":"function","func_info":{"function_urn":"` + urn + `fb","version":"2"}}}]}`
	objs := []proto.Message{
		&apigwv1.Instance{Name: model.DefaultInstance, Config: &apigwv1.InstanceConfig{Functions: []*apigwv1.FunctionTarget{
			{Urn: urn + "fb", Url: def.URL}, {Urn: urn + "fb:2", Url: rule.URL},
		}}},
		&apigwv1.ApiGroup{Id: "g1", Name: "shop"},
		api,
		&apigwv1.Publication{Id: "p1", ApiId: "a1", EnvId: model.ReleaseEnvID, Api: api},
		&apigwv1.Release{ApiId: "a1", EnvId: model.ReleaseEnvID, PublicationId: "p1"},
		&apigwv1.Plugin{Id: "brk", PluginName: "brk", PluginType: model.PluginBreaker, PluginContent: content},
		&apigwv1.PluginBinding{Id: "pb", ApiId: "a1", EnvId: model.ReleaseEnvID, PluginId: "brk"},
	}
	f := live.NewFeed()
	f.Publish(live.NewSnapshot(1, map[string]*model.Instance{model.DefaultInstance: model.NewInstance(model.DefaultInstance, objs)}, nil))
	s := functions.New(context.Background(), f, slog.New(slog.DiscardHandler), functions.Options{})
	if w := callPolicy(s, "breaker:default"); w.Code != 200 || w.Body.String() != "fallback" {
		t.Errorf("breaker:default: %d %q", w.Code, w.Body.String())
	}
	if w := callPolicy(s, "breaker:slow"); w.Code != 200 || w.Body.String() != "rule fallback" {
		t.Errorf("breaker:slow: %d %q", w.Code, w.Body.String())
	}
	if w := callPolicy(s, "breaker:other"); w.Code != 502 {
		t.Errorf("unknown downgrade: %d %q", w.Code, w.Body.String())
	}
	if w := callPolicy(s, ""); w.Code != 502 {
		t.Errorf("the HTTP API's default backend through the functions component: %d %q", w.Code, w.Body.String())
	}
}
