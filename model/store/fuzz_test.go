package store_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// FuzzDecode feeds arbitrary keys and values to the etcd decoder, as a
// value written around the admin API (etcdctl) would arrive: it never
// panics, and an object it accepts belongs to its key, is valid, and
// survives an encode/decode round trip unchanged (secrets included).
//
// Seed corpus: testdata/fuzz/FuzzDecode and the objects below. Run it with
//
//	go test ./model/store -run '^$' -fuzz FuzzDecode -fuzztime 30s
func FuzzDecode(f *testing.F) {
	sealer, err := store.NewSealer(storetest.Key())
	if err != nil {
		f.Fatal(err)
	}
	codec := store.NewCodec(sealer)
	for _, m := range []proto.Message{
		&apigwv1.Api{Id: "a1", Name: "get_pet", GroupId: "g1", ReqMethod: "GET", ReqUri: "/pets/{id}",
			BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/v1/pets/{id}"}},
		&apigwv1.ApiGroup{Id: "g1", Name: "pets"},
		&apigwv1.App{Id: "app1", Name: "web", AppKey: "web-key-0001", AppSecret: "web-secret-0001"},
		&apigwv1.Instance{Name: "default"},
	} {
		model.Normalize(m)
		v, err := codec.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		id := model.IDOf(m)
		if id == "" {
			id = "default"
		}
		f.Add(store.ObjectKey("default", model.KindOf(m), id), v)
	}
	f.Add("/apigw/v1/i/default/apis/a1", []byte(`{"id":"a2"}`))
	f.Add("/apigw/v1/i/default/apps/x", []byte(`{"app_secret":"v1:not-sealed"}`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		pk, ok := store.ParseKey(key)
		if !ok {
			return
		}
		m, err := codec.Decode(pk, value, 7)
		if err != nil {
			return
		}
		if model.KindOf(m) != pk.Kind {
			t.Fatalf("%s: decoded a %s", key, model.KindOf(m).Name)
		}
		if id := model.IDOf(m); pk.Kind.Name != model.KindInstance && pk.Kind.Name != model.KindRelease && id != pk.ID {
			t.Fatalf("%s: decoded id %q", key, id)
		}
		if err := model.Validate(m, model.AbsoluteLimits()).Err(); err != nil {
			t.Fatalf("%s: accepted an invalid object: %v", key, err)
		}
		again, err := codec.Encode(m)
		if err != nil {
			t.Fatalf("%s: accepted an object that does not encode: %v", key, err)
		}
		m2, err := codec.Decode(pk, again, 7)
		if err != nil {
			t.Fatalf("%s: re-encoded object refused: %v\n%s", key, err, again)
		}
		if !proto.Equal(m, m2) {
			t.Fatalf("%s: round trip changed the object:\n%v\n%v", key, m, m2)
		}
	})
}
