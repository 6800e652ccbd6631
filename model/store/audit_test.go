package store_test

import (
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
)

// The watch reports each change made straight into etcd, one DirectWrite
// per revision and instance with its puts and deletes, while it applies
// batches incrementally; a Commit (which bumps the instance's generation
// in the same transaction) is not reported. A Commit's audit record is
// written in its transaction, under AuditPrefix.
func TestWatchReportsDirectWritesOnly(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	got := make(chan store.DirectWrite, 16)
	s.OnDirectWrite(func(w store.DirectWrite) { got <- w })
	sub := watchStore(t, s)
	seen := func(rev int64) {
		t.Helper()
		waitFor(t, sub, func(sn *live.Snapshot) bool { return sn.Revision >= rev })
	}

	base, err := s.Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Commit(ctx(t), base, &store.Change{Puts: []proto.Message{group("g1", "first")},
		Audit: &store.AuditRecord{Key: "e1", Value: []byte(`{"operation":"create"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	seen(rev)
	audit, err := s.AuditList(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Key != "e1" || audit[0].ModRevision != rev {
		t.Fatalf("audit records after a commit at %d: %+v", rev, audit)
	}

	groupKey := func(inst, id string) string { return store.InstancePrefix(inst) + "groups/" + id }
	raw, err := cli.Txn(ctx(t)).Then(
		clientv3.OpPut(groupKey("default", "g2"), `{"id":"g2","name":"raw"}`),
		clientv3.OpDelete(groupKey("default", "g1")),
	).Commit()
	if err != nil {
		t.Fatal(err)
	}
	other, err := cli.Put(ctx(t), groupKey("other", "g3"), `{"id":"g3","name":"elsewhere"}`)
	if err != nil {
		t.Fatal(err)
	}
	next := func() store.DirectWrite {
		t.Helper()
		select {
		case w := <-got:
			return w
		case <-time.After(20 * time.Second):
			t.Fatal("no direct write reported")
		}
		return store.DirectWrite{}
	}
	ids := func(pks []store.ParsedKey) []string {
		var out []string
		for _, pk := range pks {
			out = append(out, pk.Kind.Name+"/"+pk.ID)
		}
		return out
	}
	w := next()
	if w.Instance != "default" || w.Revision != raw.Header.Revision || len(w.Puts) != 1 || len(w.Deletes) != 1 ||
		ids(w.Puts)[0] != model.KindGroup+"/g2" || ids(w.Deletes)[0] != model.KindGroup+"/g1" {
		t.Errorf("raw transaction at %d reported as %s@%d puts %v deletes %v", raw.Header.Revision, w.Instance, w.Revision, ids(w.Puts), ids(w.Deletes))
	}
	if w := next(); w.Instance != "other" || w.Revision != other.Header.Revision || len(w.Puts) != 1 || len(w.Deletes) != 0 {
		t.Errorf("raw put at %d in instance other reported as %s@%d puts %v deletes %v", other.Header.Revision, w.Instance, w.Revision, ids(w.Puts), ids(w.Deletes))
	}

	// Another commit, seen by the watch, reports nothing.
	base, err = s.Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	rev, err = s.Commit(ctx(t), base, &store.Change{Puts: []proto.Message{group("g4", "fourth")}})
	if err != nil {
		t.Fatal(err)
	}
	seen(rev)
	select {
	case w := <-got:
		t.Errorf("a commit was reported as a direct write: %s@%d puts %v", w.Instance, w.Revision, ids(w.Puts))
	default:
	}
}
