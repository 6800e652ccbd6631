package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
)

// Writes around the admin API that break rules between objects are found
// on read: a second environment named TEST is left out and reported, the
// first keeps its name; a rename into a taken name keeps the earlier
// version in force; a binding to a deleted policy is reported and kept.
func TestRulesBetweenObjectsAreCheckedOnRead(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	feed := model.NewFeed()
	wctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	go func() { _ = s.Watch(wctx, feed) }()
	sub := feed.Subscribe(wctx)
	put := func(key, value string) {
		t.Helper()
		if _, err := cli.Put(ctx(t), store.InstancePrefix("default")+key, value); err != nil {
			t.Fatal(err)
		}
	}
	find := func(sn *model.Snapshot, suffix string) *model.InvalidObject {
		for i, o := range sn.Invalid {
			if strings.HasSuffix(o.Key, suffix) {
				return &sn.Invalid[i]
			}
		}
		return nil
	}

	put("environments/e1", `{"id":"e1","name":"TEST"}`)
	put("environments/e2", `{"id":"e2","name":"TEST"}`)
	sn := waitFor(t, sub, func(sn *model.Snapshot) bool { return find(sn, "environments/e2") != nil })
	in := sn.Instance("default")
	if in.Env("e2") != nil || in.EnvByName("TEST").GetId() != "e1" {
		t.Fatalf("the later duplicate is served: e2=%v TEST=%v", in.Env("e2"), in.EnvByName("TEST"))
	}
	if o := find(sn, "environments/e2"); o.InForce || !strings.Contains(o.Reason, "name") || !strings.Contains(o.Reason, "e1") {
		t.Fatalf("report: %+v", o)
	}
	if find(sn, "environments/e1") != nil {
		t.Fatalf("the first TEST environment is reported: %+v", sn.Invalid)
	}

	// Renaming PROD into the taken name keeps PROD in force.
	put("environments/e3", `{"id":"e3","name":"PROD"}`)
	waitFor(t, sub, func(sn *model.Snapshot) bool { return sn.Instance("default").Env("e3") != nil })
	put("environments/e3", `{"id":"e3","name":"TEST"}`)
	sn = waitFor(t, sub, func(sn *model.Snapshot) bool { return find(sn, "environments/e3") != nil })
	if got := sn.Instance("default").Env("e3").GetName(); got != "PROD" {
		t.Fatalf("e3 served as %q, want its earlier version PROD", got)
	}
	if o := find(sn, "environments/e3"); !o.InForce {
		t.Fatalf("report: %+v", o)
	}

	// A binding whose policy is gone is reported and kept (the data plane
	// fails closed on it).
	put("throttle-bindings/b1", `{"id":"b1","api_id":"nope","env_id":"e1","strategy_id":"gone"}`)
	sn = waitFor(t, sub, func(sn *model.Snapshot) bool { return find(sn, "throttle-bindings/b1") != nil })
	o := find(sn, "throttle-bindings/b1")
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
	sn = waitFor(t, sub, func(sn *model.Snapshot) bool { return find(sn, "environments/e2") == nil })
	if sn.Instance("default").Env("e2").GetName() != "STAGING" {
		t.Fatal("fixed environment not served")
	}
}
