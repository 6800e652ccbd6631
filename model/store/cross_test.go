package store_test

import (
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
)

// watchRaw starts a watched store over a new embedded etcd and returns
// the etcd client, the store's snapshots and put, which writes a key of
// the default instance around the admin API.
func watchRaw(t *testing.T) (*clientv3.Client, <-chan *live.Snapshot, func(key, value string)) {
	t.Helper()
	_, cli := storetest.Etcd(t, "")
	sub := storetest.Watch(t, storetest.Store(t, cli)).Subscribe(t.Context())
	put := func(key, value string) {
		t.Helper()
		if _, err := cli.Put(ctx(t), store.InstancePrefix("default")+key, value); err != nil {
			t.Fatal(err)
		}
	}
	return cli, sub, put
}

// findInvalid returns the report of the invalid object whose key ends in
// suffix, nil when there is none.
func findInvalid(sn *live.Snapshot, suffix string) *live.InvalidObject {
	for i, o := range sn.Invalid {
		if strings.HasSuffix(o.Key, suffix) {
			return &sn.Invalid[i]
		}
	}
	return nil
}

// Writes around the admin API that break rules between objects are found
// on read: a second environment named TEST is left out and reported, the
// first keeps its name; a rename into a taken name keeps the earlier
// version in force; a binding to a deleted policy is reported and kept.
func TestRulesBetweenObjectsAreCheckedOnRead(t *testing.T) {
	cli, sub, put := watchRaw(t)

	put("environments/e1", `{"id":"e1","name":"TEST"}`)
	put("environments/e2", `{"id":"e2","name":"TEST"}`)
	sn := waitFor(t, sub, func(sn *live.Snapshot) bool { return findInvalid(sn, "environments/e2") != nil })
	in := sn.Instance("default")
	if in.Env("e2") != nil || in.EnvByName("TEST").GetId() != "e1" {
		t.Fatalf("the later duplicate is served: e2=%v TEST=%v", in.Env("e2"), in.EnvByName("TEST"))
	}
	if o := findInvalid(sn, "environments/e2"); o.InForce || !strings.Contains(o.Reason, "name") || !strings.Contains(o.Reason, "e1") {
		t.Fatalf("report: %+v", o)
	}
	if findInvalid(sn, "environments/e1") != nil {
		t.Fatalf("the first TEST environment is reported: %+v", sn.Invalid)
	}

	// Renaming PROD into the taken name keeps PROD in force.
	put("environments/e3", `{"id":"e3","name":"PROD"}`)
	waitFor(t, sub, func(sn *live.Snapshot) bool { return sn.Instance("default").Env("e3") != nil })
	put("environments/e3", `{"id":"e3","name":"TEST"}`)
	sn = waitFor(t, sub, func(sn *live.Snapshot) bool { return findInvalid(sn, "environments/e3") != nil })
	if got := sn.Instance("default").Env("e3").GetName(); got != "PROD" {
		t.Fatalf("e3 served as %q, want its earlier version PROD", got)
	}
	if o := findInvalid(sn, "environments/e3"); !o.InForce {
		t.Fatalf("report: %+v", o)
	}

	// A binding whose policy is gone is reported and kept (the data plane
	// fails closed on it).
	put("throttle-bindings/b1", `{"id":"b1","api_id":"nope","env_id":"e1","strategy_id":"gone"}`)
	sn = waitFor(t, sub, func(sn *live.Snapshot) bool { return findInvalid(sn, "throttle-bindings/b1") != nil })
	o := findInvalid(sn, "throttle-bindings/b1")
	if !o.InForce || !strings.Contains(o.Reason, "strategy_id") || !strings.Contains(o.Reason, "api_id") {
		t.Fatalf("report: %+v", o)
	}
	if sn.Instance("default").Get(model.KindThrottleBinding, "b1") == nil {
		t.Fatal("the binding was left out")
	}

	// Reading straight from etcd (no watch) applies the same rules.
	l, err := storetest.Store(t, cli).Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	if l.Instance.Env("e2") != nil || l.Instance.EnvByName("TEST").GetId() != "e1" || len(l.Invalid) != 3 {
		t.Fatalf("direct load: e2=%v invalid=%+v", l.Instance.Env("e2"), l.Invalid)
	}

	// Fixing the duplicate clears its report.
	put("environments/e2", `{"id":"e2","name":"STAGING"}`)
	sn = waitFor(t, sub, func(sn *live.Snapshot) bool { return findInvalid(sn, "environments/e2") == nil })
	if sn.Instance("default").Env("e2").GetName() != "STAGING" {
		t.Fatal("fixed environment not served")
	}
}

// The watcher re-checks the rules between objects per batch, for what the
// batch affects: deleting the first of two environments named TEST serves
// the second and clears its report; a binding whose policy appears later
// is no longer reported; renaming a group into a taken name leaves the
// group's APIs served (the earlier version stays) without reporting them.
func TestRulesBetweenObjectsFollowEachBatch(t *testing.T) {
	cli, sub, put := watchRaw(t)

	put("environments/e1", `{"id":"e1","name":"TEST"}`)
	put("environments/e2", `{"id":"e2","name":"TEST"}`)
	put("throttle-bindings/b1", `{"id":"b1","api_id":"a1","env_id":"e1","strategy_id":"t1"}`)
	waitFor(t, sub, func(sn *live.Snapshot) bool {
		return findInvalid(sn, "environments/e2") != nil && findInvalid(sn, "throttle-bindings/b1") != nil
	})

	if _, err := cli.Delete(ctx(t), store.InstancePrefix("default")+"environments/e1"); err != nil {
		t.Fatal(err)
	}
	sn := waitFor(t, sub, func(sn *live.Snapshot) bool { return sn.Instance("default").Env("e1") == nil })
	if got := sn.Instance("default").EnvByName("TEST").GetId(); got != "e2" {
		t.Fatalf("TEST is %q after deleting e1, want e2", got)
	}
	if o := findInvalid(sn, "environments/e2"); o != nil {
		t.Fatalf("e2 still reported: %+v", o)
	}
	if o := findInvalid(sn, "throttle-bindings/b1"); o == nil || !strings.Contains(o.Reason, "env_id") {
		t.Fatalf("b1 must now name its missing environment: %+v", o)
	}

	put("throttles/t1", `{"id":"t1","name":"limit_t1","api_call_limits":10,"time_interval":1,"time_unit":"SECOND"}`)
	put("groups/g1", `{"id":"g1","name":"pets"}`)
	put("apis/a1", `{"id":"a1","name":"get","group_id":"g1","req_method":"GET","req_uri":"/p","auth_type":"NONE","backend_type":"MOCK","mock_info":{"status_code":200}}`)
	put("environments/e1", `{"id":"e1","name":"PROD"}`)
	sn = waitFor(t, sub, func(sn *live.Snapshot) bool {
		return sn.Instance("default").API("a1") != nil && sn.Instance("default").Env("e1") != nil
	})
	if o := findInvalid(sn, "throttle-bindings/b1"); o != nil {
		t.Fatalf("b1 reported once its API, environment and policy exist: %+v (all: %+v)", o, sn.Invalid)
	}

	put("groups/g2", `{"id":"g2","name":"cats"}`)
	put("groups/g1", `{"id":"g1","name":"cats"}`)
	sn = waitFor(t, sub, func(sn *live.Snapshot) bool { return findInvalid(sn, "groups/g1") != nil })
	in := sn.Instance("default")
	if in.Group("g1").GetName() != "pets" || in.API("a1") == nil {
		t.Fatalf("g1 served as %q, a1=%v; want its earlier version and its API", in.Group("g1").GetName(), in.API("a1"))
	}
	for _, o := range sn.Invalid {
		if !strings.HasSuffix(o.Key, "groups/g1") {
			t.Fatalf("only g1 should be reported: %+v", sn.Invalid)
		}
	}
}
