package store_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// watchStore runs Watch of a new store over cli (what a restarted apigw
// does) until the test ends and returns its snapshots.
func watchStore(t *testing.T, s *store.Store) <-chan *live.Snapshot {
	t.Helper()
	return storetest.Watch(t, s).Subscribe(t.Context())
}

// After a restart an unreadable ACL, throttle, authorizer, credential
// quota or binding has no last good version: the view holds a placeholder
// and the APIs it restricts are held closed, instead of being served
// without it. While running, the last good version stays in force.
func TestRestartHoldsClosedWhatCannotBeRead(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	rel := model.ReleaseEnvID
	pub := func(id string, f func(*apigwv1.Api)) []proto.Message {
		a := &apigwv1.Api{Id: id, Name: "api_" + strings.ReplaceAll(id, "-", "_"), GroupId: "g1", ReqMethod: "GET", ReqUri: "/" + id,
			BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/x"}}
		if f != nil {
			f(a)
		}
		model.Normalize(a)
		p := &apigwv1.Publication{Id: "pub-" + id, ApiId: id, EnvId: rel, Api: proto.Clone(a).(*apigwv1.Api)}
		return []proto.Message{a, p, &apigwv1.Release{ApiId: id, EnvId: rel, PublicationId: p.Id}}
	}
	objs := []proto.Message{
		group("g1", "pets"),
		&apigwv1.Acl{Id: "acl1", AclName: "office", AclType: model.ACLPermit, EntityType: model.EntityIP, AclValue: "10.0.0.1"},
		&apigwv1.Throttle{Id: "thr1", Name: "five_a_minute", ApiCallLimits: 5, TimeInterval: 1, TimeUnit: model.UnitMinute},
		&apigwv1.Throttle{Id: "thr2", Name: "three_a_minute", ApiCallLimits: 3, TimeInterval: 1, TimeUnit: model.UnitMinute},
		&apigwv1.Throttle{Id: "thr3", Name: "two_a_minute", ApiCallLimits: 2, TimeInterval: 1, TimeUnit: model.UnitMinute},
		&apigwv1.Authorizer{Id: "az1", Name: "token_check", Type: model.AuthorizerFrontend, AuthorizerUri: "http://auth.internal/check"},
		&apigwv1.AppQuota{Id: "q1", Name: "hourly", CallLimits: 5, TimeInterval: 1, TimeUnit: model.UnitHour},
		&apigwv1.App{Id: "app1", Name: "client", AppQuotaId: "q1"},
		&apigwv1.AclBinding{Id: "ab1", ApiId: "acl-api", EnvId: rel, AclId: "acl1"},
		&apigwv1.ThrottleBinding{Id: "tb1", ApiId: "thr-api", EnvId: rel, StrategyId: "thr1"},
		&apigwv1.ThrottleBinding{Id: "tb2", ApiId: "gone-api", EnvId: rel, StrategyId: "thr2"},
		&apigwv1.ThrottleBinding{Id: "tb3", ApiId: "bind-api", EnvId: rel, StrategyId: "thr3"},
	}
	for _, id := range []string{"acl-api", "thr-api", "gone-api", "bind-api", "free-api"} {
		objs = append(objs, pub(id, nil)...)
	}
	objs = append(objs, pub("az-api", func(a *apigwv1.Api) { a.AuthType, a.AuthorizerId = model.AuthAuthorizer, "az1" })...)
	for _, o := range objs {
		model.Normalize(o)
	}
	commit(t, s, objs...)

	running := watchStore(t, s)
	waitFor(t, running, func(sn *live.Snapshot) bool { return sn.Instance("default").ACL("acl1") != nil })

	// Around the admin API: two values that do not decode or validate,
	// a binding that does not decode, and three deletions.
	p := store.InstancePrefix("default")
	for k, v := range map[string]string{
		p + "acls/acl1":             `{"id":"acl1","acl_name":"office","acl_type":"PERMIT","entity_type":"IP","acl_value":"not-an-ip"}`,
		p + "throttles/thr1":        `{"id":"thr1",`,
		p + "throttle-bindings/tb3": `{"id":"tb3","api_id":"bind-api","env_id":"` + rel + `","strategy_id":"thr3","bogus":true}`,
	} {
		if _, err := cli.Put(ctx(t), k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{p + "throttles/thr2", p + "authorizers/az1", p + "app-quotas/q1"} {
		if _, err := cli.Delete(ctx(t), k); err != nil {
			t.Fatal(err)
		}
	}
	sn := waitFor(t, running, func(sn *live.Snapshot) bool {
		return reported(sn, p+"acls/acl1", p+"throttles/thr1", p+"throttle-bindings/tb3") && sn.Instance("default").Authorizer("az1") == nil && sn.Instance("default").AppQuota("q1") == nil
	})
	in := sn.Instance("default")
	// While running: the last good ACL and throttle stay in force ...
	for _, api := range []string{"acl-api", "thr-api", "bind-api"} {
		if why := in.Blocked(api, rel); why != "" {
			t.Errorf("while running, %s is held closed although its last good version is in force: %s", api, why)
		}
	}
	// ... and what was deleted holds its APIs closed at once.
	if in.Blocked("gone-api", rel) == "" || in.Blocked("az-api", rel) == "" || in.AppBlocked("app1") == "" {
		t.Errorf("deleted objects do not hold their APIs closed: %q %q %q", in.Blocked("gone-api", rel), in.Blocked("az-api", rel), in.AppBlocked("app1"))
	}

	// Restart: a new store lists the keyspace afresh.
	restarted := watchStore(t, storetest.Store(t, cli))
	sn = waitFor(t, restarted, func(sn *live.Snapshot) bool { return sn.Instance("default") != nil })
	in = sn.Instance("default")
	if in.ACL("acl1") != nil || in.Throttle("thr1") != nil {
		t.Fatal("an invalid value was served after the restart")
	}
	for api, want := range map[string]string{
		"acl-api":  "ACL policy acl1 cannot be read from etcd",
		"thr-api":  "throttling policy thr1 cannot be read from etcd",
		"gone-api": "throttling policy thr2 does not exist",
		"bind-api": "throttle_binding tb3 cannot be read from etcd",
		"az-api":   "custom authorizer az1 does not exist",
	} {
		if got := in.Blocked(api, rel); !strings.Contains(got, want) {
			t.Errorf("after restart, %s: Blocked = %q, want %q", api, got, want)
		}
	}
	if got := in.Blocked("free-api", rel); got != "" {
		t.Errorf("free-api held closed: %q", got)
	}
	if got := in.AppBlocked("app1"); !strings.Contains(got, "credential quota q1 does not exist") {
		t.Errorf("app1: %q", got)
	}
	if ph, ok := in.Placeholder(model.KindThrottleBinding, "tb3"); !ok || ph.APIID != "bind-api" || ph.EnvID != rel {
		t.Errorf("binding placeholder %+v", ph)
	}

	// Loading straight from etcd (the admin API without the watch) gives
	// the same view.
	l, err := storetest.Store(t, cli).Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	if l.Instance.Blocked("acl-api", rel) == "" || len(l.Instance.Placeholders()) != 3 {
		t.Errorf("Load: %q %v", l.Instance.Blocked("acl-api", rel), l.Instance.Placeholders())
	}
}

// reported says whether every key is among the snapshot's invalid objects
// (others may be reported too: objects whose references broke).
func reported(sn *live.Snapshot, keys ...string) bool {
	for _, k := range keys {
		if !slices.ContainsFunc(sn.Invalid, func(o live.InvalidObject) bool { return o.Key == k }) {
			return false
		}
	}
	return true
}
