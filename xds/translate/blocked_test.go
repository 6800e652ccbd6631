package translate_test

import (
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/translate"
)

func routeNamed(res *translate.Resources, name string) *routev3.Route {
	for _, rc := range res.Routes {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Name == name {
					return r
				}
			}
		}
	}
	return nil
}

// An API whose throttling policy cannot be read is answered 500 until the
// policy is back; a Builder follows both changes like a fresh Build.
func TestBlockedAPIFailsClosedUntilFixed(t *testing.T) {
	api := &apigwv1.Api{Id: "a1", Name: "items", GroupId: "g1", ReqProtocol: model.ProtoBoth, ReqMethod: "GET", ReqUri: "/items",
		BackendApi: &apigwv1.BackendApi{ReqProtocol: model.ProtoHTTP, ReqMethod: "GET", UrlDomain: "items.internal", ReqUri: "/items", Timeout: 5000}}
	objs := []proto.Message{
		&apigwv1.ApiGroup{Id: "g1", Name: "items", UrlDomains: []*apigwv1.UrlDomain{{Domain: "items.example.com"}}},
		api, &apigwv1.ThrottleBinding{Id: "tb1", ApiId: "a1", EnvId: model.ReleaseEnvID, StrategyId: "thr1"},
	}
	for _, o := range objs {
		model.Normalize(o)
	}
	draft := model.NewInstance(model.DefaultInstance, objs)
	pub, err := draft.Publication("a1", model.ReleaseEnvID, "p1", "v1", "", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	served := append(objs, pub, &apigwv1.Release{ApiId: "a1", EnvId: model.ReleaseEnvID, PublicationId: "p1"})
	broken := model.NewInstanceWith(model.DefaultInstance, served, []model.Placeholder{{Kind: model.KindThrottle, ID: "thr1", Reason: "not a valid throttle"}})
	thr := &apigwv1.Throttle{Id: "thr1", Name: "five_a_minute", ApiCallLimits: 5, TimeInterval: 1, TimeUnit: model.UnitMinute}
	model.Normalize(thr)
	fixed := broken.With([]proto.Message{thr}, nil)

	b := translate.NewBuilder(translate.Options{})
	res, err := b.Build(broken)
	if err != nil {
		t.Fatal(err)
	}
	r := routeNamed(res, "api.a1.RELEASE")
	if r.GetDirectResponse().GetStatus() != 500 || r.GetRoute() != nil {
		t.Fatalf("blocked API: %v", r)
	}
	if len(res.Problems) != 1 || res.Problems[0].APIID != "a1" || !strings.Contains(res.Problems[0].Reason, "throttling policy thr1 cannot be read") {
		t.Errorf("problems %v", res.Problems)
	}
	fresh, _ := translate.Build(broken, translate.Options{})
	equalResources(t, res, fresh)

	res, err = b.Build(fixed)
	if err != nil {
		t.Fatal(err)
	}
	if r := routeNamed(res, "api.a1.RELEASE"); r.GetRoute().GetCluster() == "" || len(r.GetRoute().GetRateLimits()) == 0 {
		t.Fatalf("fixed API: %v", r)
	}
	if len(res.Problems) != 0 {
		t.Errorf("problems after the fix: %v", res.Problems)
	}
	fresh, _ = translate.Build(fixed, translate.Options{})
	equalResources(t, res, fresh)
}
