package extauth_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// An Envoy that still has the routes of a policy that can no longer be
// read (apigw restarted, the ACL in etcd is invalid) gets a denial, never
// an allow without the policy; so does an app whose credential quota is
// gone.
func TestPoliciesThatCannotBeReadFailClosed(t *testing.T) {
	f := newFixture("", nil)
	f.add(&apigwv1.AppQuota{Id: "q1", Name: "hourly", CallLimits: 5, TimeInterval: 1, TimeUnit: model.UnitHour})
	for i, o := range f.objs {
		if a, ok := o.(*apigwv1.App); ok && a.Id == "app1" {
			a = proto.Clone(a).(*apigwv1.App)
			a.AppQuotaId = "q1"
			f.objs[i] = a
		}
	}
	good := f.instance(t)
	h := newHarness(t, good)
	allowedResp(t, h.check(envoyRequest{api: "api-https", path: "/secure", peer: "198.51.100.9"}.checkRequest()))
	allowedResp(t, h.check(signed("api-sig", "GET", "/items/1", nil, "", key1, secret1, testNow).checkRequest()))

	// acl-permit (bound to api-https) cannot be read; the quota is gone.
	var objs []proto.Message
	for _, o := range append(f.objs, publishedRecords(t, good)...) {
		switch v := o.(type) {
		case *apigwv1.Acl:
			if v.Id == "acl-permit" {
				continue
			}
		case *apigwv1.AppQuota:
			continue
		}
		objs = append(objs, o)
	}
	broken := model.NewInstanceWith(model.DefaultInstance, objs, []model.Placeholder{{Kind: model.KindACL, ID: "acl-permit", Reason: "acl_value: bad"}})
	h.feed.Publish(live.NewSnapshot(2, map[string]*model.Instance{model.DefaultInstance: broken}, nil))

	resp := h.check(envoyRequest{api: "api-https", path: "/secure", peer: "198.51.100.9"}.checkRequest())
	status, b, _ := denied(t, resp)
	if status != 500 || b.Code != "APIG.0601" || metaOf(resp)[dataplane.ExtAuthzMetaErrorType] != "DEFAULT_5XX" {
		t.Errorf("API with an unreadable ACL: %d %+v", status, b)
	}
	status, b, _ = denied(t, h.check(signed("api-sig", "GET", "/items/1", nil, "", key1, secret1, testNow).checkRequest()))
	if status != 500 || b.Code != "APIG.0601" {
		t.Errorf("app whose credential quota is gone: %d %+v", status, b)
	}
	if got := h.counter("apigw_extauth_checks_total", map[string]string{"reason": "policy_unavailable"}); got != 2 {
		t.Errorf("checks_total{reason=policy_unavailable} = %v, want 2", got)
	}
	// Other APIs and apps are served as usual.
	allowedResp(t, h.check(envoyRequest{api: "api-mock", path: "/mock"}.checkRequest()))
}

// publishedRecords returns the publication records and releases of a view.
func publishedRecords(t *testing.T, in *model.Instance) []proto.Message {
	t.Helper()
	var out []proto.Message
	for _, k := range []string{model.KindPublication, model.KindRelease} {
		out = append(out, in.Objects(k)...)
	}
	return out
}
