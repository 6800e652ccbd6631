package model_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// holdsFixture: four APIs published in RELEASE, each restricted by one
// object that later goes missing or cannot be read.
func holdsFixture() []proto.Message {
	api := func(id string, f func(a *apigwv1.Api)) []proto.Message {
		a := &apigwv1.Api{Id: id, Name: "api_" + id, GroupId: "g1", ReqMethod: "GET", ReqUri: "/" + id}
		if f != nil {
			f(a)
		}
		pub := &apigwv1.Publication{Id: "pub-" + id, ApiId: id, EnvId: model.ReleaseEnvID, Api: proto.Clone(a).(*apigwv1.Api)}
		return []proto.Message{a, pub, &apigwv1.Release{ApiId: id, EnvId: model.ReleaseEnvID, PublicationId: pub.Id}}
	}
	objs := []proto.Message{&apigwv1.ApiGroup{Id: "g1", Name: "pets"}}
	objs = append(objs, api("acl-api", nil)...)
	objs = append(objs, api("thr-api", nil)...)
	objs = append(objs, api("az-api", func(a *apigwv1.Api) { a.AuthType, a.AuthorizerId = model.AuthAuthorizer, "az1" })...)
	objs = append(objs, api("free-api", nil)...)
	objs = append(objs,
		&apigwv1.AclBinding{Id: "ab1", ApiId: "acl-api", EnvId: model.ReleaseEnvID, AclId: "acl1"},
		&apigwv1.ThrottleBinding{Id: "tb1", ApiId: "thr-api", EnvId: model.ReleaseEnvID, StrategyId: "thr1"},
		&apigwv1.App{Id: "app1", Name: "client", AppQuotaId: "q1"},
		&apigwv1.App{Id: "app2", Name: "other"},
	)
	return objs
}

func TestBlockedByMissingOrUnreadableObjects(t *testing.T) {
	acl := &apigwv1.Acl{Id: "acl1", AclName: "office", AclType: model.ACLPermit, EntityType: model.EntityIP, AclValue: "10.0.0.1"}
	thr := &apigwv1.Throttle{Id: "thr1", Name: "basic", ApiCallLimits: 5, TimeInterval: 1, TimeUnit: model.UnitMinute}
	az := &apigwv1.Authorizer{Id: "az1", Name: "auth", Type: model.AuthorizerFrontend, AuthorizerUri: "http://a"}
	q := &apigwv1.AppQuota{Id: "q1", Name: "quota", CallLimits: 5, TimeInterval: 1, TimeUnit: model.UnitHour}

	whole := model.NewInstance("default", append(holdsFixture(), acl, thr, az, q))
	for _, api := range []string{"acl-api", "thr-api", "az-api", "free-api"} {
		if why := whole.Blocked(api, model.ReleaseEnvID); why != "" {
			t.Errorf("%s blocked with every object present: %s", api, why)
		}
	}
	if whole.AppBlocked("app1") != "" || len(whole.BlockedApps()) != 0 {
		t.Error("app blocked with its quota present")
	}

	// The ACL and the authorizer cannot be read, the throttle and the
	// quota are gone.
	in := model.NewInstanceWith("default", holdsFixture(), []model.Placeholder{
		{Kind: model.KindACL, ID: "acl1", Reason: "not a valid acl: bad json"},
		{Kind: model.KindAuthorizer, ID: "az1", Reason: "authorizer_uri: must be a URL"},
	})
	for api, want := range map[string]string{
		"acl-api": "ACL policy acl1 cannot be read from etcd (not a valid acl: bad json)",
		"thr-api": "throttling policy thr1 does not exist",
		"az-api":  "custom authorizer az1 cannot be read from etcd",
	} {
		if got := in.Blocked(api, model.ReleaseEnvID); !strings.Contains(got, want) {
			t.Errorf("%s: Blocked = %q, want %q", api, got, want)
		}
	}
	if got := in.Blocked("free-api", model.ReleaseEnvID); got != "" {
		t.Errorf("free-api: %q", got)
	}
	if got := in.AppBlocked("app1"); !strings.Contains(got, "credential quota q1 does not exist") || in.AppBlocked("app2") != "" {
		t.Errorf("AppBlocked = %q", got)
	}
	if p, ok := in.Placeholder(model.KindACL, "acl1"); !ok || p.Reason == "" || len(in.Placeholders()) != 2 {
		t.Errorf("placeholders %v", in.Placeholders())
	}
	if in.ACL("acl1") != nil {
		t.Error("a placeholder is served as an object")
	}

	// Writing a good version replaces the placeholder.
	fixed := in.With([]proto.Message{acl}, nil)
	if got := fixed.Blocked("acl-api", model.ReleaseEnvID); got != "" {
		t.Errorf("after the ACL is written again: %q", got)
	}
	if got := fixed.Blocked("az-api", model.ReleaseEnvID); got == "" {
		t.Error("With dropped the authorizer's placeholder")
	}
}

func TestUnreadableBindingsAndInstance(t *testing.T) {
	for _, c := range []struct {
		name    string
		ph      model.Placeholder
		blocked []string // APIs held closed
	}{
		{"binding naming API and environment", model.Placeholder{Kind: model.KindThrottleBinding, ID: "tb9", Reason: "x", APIID: "free-api", EnvID: model.ReleaseEnvID}, []string{"free-api"}},
		{"binding naming an API", model.Placeholder{Kind: model.KindACLBinding, ID: "ab9", Reason: "x", APIID: "free-api"}, []string{"free-api"}},
		{"binding naming nothing", model.Placeholder{Kind: model.KindACLBinding, ID: "ab9", Reason: "x"}, []string{"free-api", "acl-api", "thr-api"}},
		{"instance definition", model.Placeholder{Kind: model.KindInstance, ID: "default", Reason: "x"}, []string{"free-api", "acl-api", "thr-api"}},
		{"an unreadable app auth holds nothing", model.Placeholder{Kind: model.KindAppAuth, ID: "aa9", Reason: "x", APIID: "free-api"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs := append(holdsFixture(),
				&apigwv1.Acl{Id: "acl1", AclName: "office", AclType: model.ACLPermit, EntityType: model.EntityIP, AclValue: "10.0.0.1"},
				&apigwv1.Throttle{Id: "thr1", Name: "basic", ApiCallLimits: 5, TimeInterval: 1, TimeUnit: model.UnitMinute})
			in := model.NewInstanceWith("default", objs, []model.Placeholder{c.ph})
			for _, api := range []string{"free-api", "acl-api", "thr-api"} {
				want := false
				for _, b := range c.blocked {
					want = want || b == api
				}
				if got := in.Blocked(api, model.ReleaseEnvID) != ""; got != want {
					t.Errorf("%s blocked %v, want %v (%q)", api, got, want, in.Blocked(api, model.ReleaseEnvID))
				}
			}
		})
	}
}
