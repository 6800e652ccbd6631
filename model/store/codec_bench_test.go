package store_test

import (
	"fmt"
	"testing"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	"github.com/apigw/apigw/model/store/storetest"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func BenchmarkDecodeAPI(b *testing.B) {
	sealer, _ := store.NewSealer(storetest.Key())
	c := store.NewCodec(sealer)
	api := &apigwv1.Api{Id: "a1", Name: "get_pet", GroupId: "g1", ReqMethod: "GET", ReqUri: "/pets/{id}",
		BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/v1/pets/{id}"}}
	model.Normalize(api)
	v, err := c.Encode(api)
	if err != nil {
		b.Fatal(err)
	}
	pk, _ := store.ParseKey(store.ObjectKey("default", model.KindByName(model.KindAPI), "a1"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(pk, v, 1); err != nil {
			b.Fatal(fmt.Sprint(err))
		}
	}
}
