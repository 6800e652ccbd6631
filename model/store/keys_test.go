package store_test

import (
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// The store itself refuses instance names and ids that are not keys, so
// that no caller can write outside an instance's prefix.
func TestStoreRefusesNamesThatAreNotKeys(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	for _, bad := range []string{"default/apis", strings.Repeat("i", 1<<20), ""} {
		_, err := s.Load(ctx(t), bad)
		if vs, ok := model.AsValidation(err); !ok || vs[0].Field != "instance" {
			t.Fatalf("load of instance %.20q: %v", bad, err)
		}
	}
	other := model.NewInstance("default/apis", nil)
	if _, err := s.Commit(ctx(t), &store.Loaded{Instance: other}, &store.Change{Puts: []proto.Message{group("g1", "pets")}}); err == nil {
		t.Fatal("commit into instance default/apis accepted")
	}
	base, err := s.Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []proto.Message{
		&apigwv1.ApiGroup{Id: "../x", Name: "pets"},
		&apigwv1.Release{ApiId: "a/b", EnvId: "e", PublicationId: "p"},
		&apigwv1.Instance{Name: "Bad/Name"},
	} {
		_, err := s.Commit(ctx(t), base, &store.Change{Puts: []proto.Message{m}})
		if _, ok := model.AsValidation(err); !ok {
			t.Fatalf("commit of %v: %v, want a validation error", m, err)
		}
	}
	_, err = s.Commit(ctx(t), base, &store.Change{Deletes: []store.ObjectID{{Kind: model.KindByName(model.KindAPI), ID: "../../instances/x"}}})
	if _, ok := model.AsValidation(err); !ok {
		t.Fatalf("delete with a path id: %v", err)
	}
	resp, err := cli.Get(ctx(t), store.Prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 0 {
		t.Fatalf("keys written: %v", resp.Kvs)
	}
}

// A key written around apigw under an instance name apigw would refuse is
// reported as invalid, not served.
func TestKeysUnderInvalidInstanceNamesAreReported(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	if _, err := cli.Put(ctx(t), store.Prefix+"i/Bad_Name/groups/g1", `{"id":"g1","name":"pets"}`); err != nil {
		t.Fatal(err)
	}
	sn := waitFor(t, storetest.Watch(t, s).Subscribe(t.Context()), func(sn *live.Snapshot) bool { return len(sn.Invalid) == 1 })
	if sn.Instance("Bad_Name") != nil || !strings.Contains(sn.Invalid[0].Reason, "instance") {
		t.Fatalf("invalid instance served or not reported: %+v", sn.Invalid)
	}
}
