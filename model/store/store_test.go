package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/live"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func group(id, name string) *apigwv1.ApiGroup {
	g := &apigwv1.ApiGroup{Id: id, Name: name}
	model.Normalize(g)
	return g
}

func commit(t *testing.T, s *store.Store, puts ...proto.Message) int64 {
	t.Helper()
	base, err := s.Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Commit(ctx(t), base, &store.Change{Puts: puts})
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func TestCommitDetectsConcurrentChanges(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	commit(t, s, group("g1", "first"))

	a, _ := s.Load(ctx(t), "default")
	b, _ := s.Load(ctx(t), "default")
	if _, err := s.Commit(ctx(t), a, &store.Change{Puts: []proto.Message{group("g2", "second")}}); err != nil {
		t.Fatalf("first writer: %v", err)
	}
	_, err := s.Commit(ctx(t), b, &store.Change{Puts: []proto.Message{group("g3", "third")}})
	if !errors.Is(err, model.ErrConflict) {
		t.Fatalf("stale writer: got %v, want ErrConflict", err)
	}

	// A deletion by another writer is a conflict too.
	c, _ := s.Load(ctx(t), "default")
	d, _ := s.Load(ctx(t), "default")
	k := model.KindByName(model.KindGroup)
	if _, err := s.Commit(ctx(t), c, &store.Change{Deletes: []store.ObjectID{{Kind: k, ID: "g1"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx(t), d, &store.Change{Puts: []proto.Message{group("g4", "fourth")}}); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("writer that missed a delete: got %v, want ErrConflict", err)
	}
	// A raw write by another tool (etcdctl) to a key the change writes, or
	// to one it was computed from, invalidates the base too.
	rawPut := func(id, name string) {
		t.Helper()
		if _, err := cli.Put(ctx(t), store.InstancePrefix("default")+"groups/"+id, fmt.Sprintf(`{"id":%q,"name":%q}`, id, name)); err != nil {
			t.Fatal(err)
		}
	}
	e, _ := s.Load(ctx(t), "default")
	rawPut("g5", "raw-fifth")
	if _, err := s.Commit(ctx(t), e, &store.Change{Puts: []proto.Message{group("g5", "fifth")}}); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("writer that missed a raw put of the key it creates: got %v, want ErrConflict", err)
	}
	f, _ := s.Load(ctx(t), "default")
	rawPut("g2", "raw-second")
	if _, err := s.Commit(ctx(t), f, &store.Change{Puts: []proto.Message{group("g6", "sixth")}, Reads: []store.ObjectID{{Kind: k, ID: "g2"}}}); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("writer that missed a raw put of a key it read: got %v, want ErrConflict", err)
	}
	// A raw write elsewhere in the instance does not: the guard names the
	// keys of the change, not the instance prefix.
	g, _ := s.Load(ctx(t), "default")
	rawPut("raw", "raw-group")
	if _, err := s.Commit(ctx(t), g, &store.Change{Puts: []proto.Message{group("g7", "seventh")}, Reads: []store.ObjectID{{Kind: k, ID: "g2"}}}); err != nil {
		t.Fatalf("writer next to an unrelated raw put: %v", err)
	}
}

func TestSecretsAreSealedAtRest(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	const secret = "very-secret-value-1"
	const code = "AppCode0123456789012345678901234567890123456789012345678901234567890"
	app := &apigwv1.App{Id: "a1", Name: "client", AppKey: "key-00000001", AppSecret: secret, AppCodes: []*apigwv1.AppCode{{Id: "c1", AppCode: code}}}
	model.Normalize(app)
	commit(t, s, app)

	resp, err := cli.Get(ctx(t), store.InstancePrefix("default")+"apps/a1")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("raw get: %v", err)
	}
	raw := string(resp.Kvs[0].Value)
	if strings.Contains(raw, secret) || strings.Contains(raw, code) {
		t.Fatalf("secret stored in clear: %s", raw)
	}
	if !strings.Contains(raw, "enc:v1:") || !strings.Contains(raw, "key-00000001") {
		t.Fatalf("unexpected stored form: %s", raw)
	}
	l, err := s.Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	got := l.Instance.App("a1")
	if got.GetAppSecret() != secret || got.GetAppCodes()[0].GetAppCode() != code {
		t.Fatalf("secrets not restored: %v", got)
	}

	// With another key the object is reported, not served.
	other, _ := store.NewSealer([]byte("ffffffffffffffffffffffffffffffff"))
	l2, err := store.New(cli, store.NewCodec(other), storetest.Logger(), nil).Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	if l2.Instance.App("a1") != nil || len(l2.Invalid) != 1 || !strings.Contains(l2.Invalid[0].Reason, "key") {
		t.Fatalf("wrong key: app=%v invalid=%v", l2.Instance.App("a1"), l2.Invalid)
	}
}

// A kafka_log plug-in's SASL password is stored sealed, apart from its
// content, and restored on load.
func TestKafkaLogPasswordSealedAtRest(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	const pw = "kafka-sasl-password-1"
	p := &apigwv1.Plugin{Id: "k1", PluginName: "kafka_calls", PluginType: model.PluginKafkaLog,
		PluginContent: `{"broker_list":["10.0.0.5:9092"],"topic":"t","sasl_config":{"security_protocol":"SASL_PLAINTEXT","sasl_username":"u","sasl_password":"` + pw + `"}}`}
	model.Normalize(p)
	commit(t, s, p)
	resp, err := cli.Get(ctx(t), store.InstancePrefix("default")+"plugins/k1")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("raw get: %v", err)
	}
	if raw := string(resp.Kvs[0].Value); strings.Contains(raw, pw) || !strings.Contains(raw, "enc:v1:") {
		t.Fatalf("stored form: %s", raw)
	}
	l, err := s.Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := l.Instance.Get(model.KindPlugin, "k1").(*apigwv1.Plugin)
	if model.KafkaLogContent(got).GetSaslConfig().GetSaslPassword() != pw {
		t.Fatalf("password not restored: %v", got)
	}
}

// waitFor returns the first snapshot from sub that satisfies ok.
func waitFor(t *testing.T, sub <-chan *live.Snapshot, ok func(*live.Snapshot) bool) *live.Snapshot {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case s := <-sub:
			if ok(s) {
				return s
			}
		case <-timeout:
			t.Fatal("timed out waiting for a snapshot")
		}
	}
}

func TestWatchSkipsInvalidObjectsAndKeepsTheLastGood(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	feed := storetest.Watch(t, s)
	sub := feed.Subscribe(t.Context())

	commit(t, s, group("g1", "good-name"))
	waitFor(t, sub, func(sn *live.Snapshot) bool { return sn.Instance("default").Group("g1") != nil })

	key := store.InstancePrefix("default") + "groups/g1"
	if _, err := cli.Put(ctx(t), key, `{"id":"g1","name":"x"}`); err != nil { // name too short
		t.Fatal(err)
	}
	sn := waitFor(t, sub, func(sn *live.Snapshot) bool { return len(sn.Invalid) == 1 })
	if g := sn.Instance("default").Group("g1"); g.GetName() != "good-name" {
		t.Fatalf("last good version not in force: %v", g)
	}
	if inv := sn.Invalid[0]; inv.Key != key || !inv.InForce || !strings.Contains(inv.Reason, "name") {
		t.Fatalf("invalid report: %+v", inv)
	}

	if _, err := cli.Put(ctx(t), store.InstancePrefix("default")+"groups/g2", `{"id":"g2","name":"ok-name","bogus":1}`); err != nil {
		t.Fatal(err)
	}
	sn = waitFor(t, sub, func(sn *live.Snapshot) bool { return len(sn.Invalid) == 2 })
	if sn.Instance("default").Group("g2") != nil || sn.Invalid[1].InForce {
		t.Fatalf("unknown field must make the object invalid: %+v", sn.Invalid)
	}

	// Fixing the object brings it back.
	if _, err := cli.Put(ctx(t), key, `{"id":"g1","name":"fixed-name"}`); err != nil {
		t.Fatal(err)
	}
	sn = waitFor(t, sub, func(sn *live.Snapshot) bool { return sn.Instance("default").Group("g1").GetName() == "fixed-name" })
	if len(sn.Invalid) != 1 {
		t.Fatalf("fixed object still reported: %+v", sn.Invalid)
	}
}

func TestListPagesThroughLargeKeyspaces(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	var puts []proto.Message
	for i := range 2500 {
		puts = append(puts, group(fmt.Sprintf("g%05d", i), fmt.Sprintf("group-%05d", i)))
	}
	rev := commit(t, s, puts...)
	sn := waitFor(t, storetest.Watch(t, s).Subscribe(t.Context()), func(sn *live.Snapshot) bool { return sn.Revision >= rev })
	if n := sn.Instance("default").StoredCount(model.KindGroup); n != 2500 {
		t.Fatalf("got %d groups, want 2500", n)
	}
}

func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	e, cli := storetest.Etcd(t, dir)
	s := storetest.Store(t, cli)
	commit(t, s, group("g1", "persisted"))
	_ = cli.Close()
	e.Close()

	_, cli2 := storetest.Etcd(t, dir)
	l, err := storetest.Store(t, cli2).Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	if l.Instance.Group("g1").GetName() != "persisted" {
		t.Fatal("group lost across restart")
	}
}

// The client secret of an oidc_auth plug-in is sealed like app secrets.
func TestPluginClientSecretIsSealedAtRest(t *testing.T) {
	_, cli := storetest.Etcd(t, "")
	s := storetest.Store(t, cli)
	const secret = "oidc-client-secret-value"
	p := &apigwv1.Plugin{Id: "o1", PluginName: "oidc_web", PluginType: model.PluginOIDCAuth, ClientSecret: secret,
		PluginContent: `{"client_id":"web","authorization_endpoint":"https://idp.example.com/a","token_endpoint":"https://idp.example.com/t","redirect_uri":"https://api.example.com/cb"}`}
	model.Normalize(p)
	commit(t, s, p)
	resp, err := cli.Get(ctx(t), store.InstancePrefix("default")+"plugins/o1")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("raw get: %v %v", err, resp)
	}
	if raw := string(resp.Kvs[0].Value); strings.Contains(raw, secret) || !strings.Contains(raw, "enc:v1:") {
		t.Fatalf("client secret not sealed: %s", raw)
	}
	l, err := s.Load(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Instance.Get(model.KindPlugin, "o1").(*apigwv1.Plugin); got.GetClientSecret() != secret {
		t.Fatalf("client secret not restored: %v", got)
	}
}
