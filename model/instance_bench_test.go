package model_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// instanceObjects returns n APIs in n/100 groups, each published to
// RELEASE: 3n+n/100 objects, the shape of a large instance.
func instanceObjects(n int) []proto.Message {
	var objs []proto.Message
	for g := 0; g < n/100; g++ {
		objs = append(objs, &apigwv1.ApiGroup{Id: fmt.Sprintf("g%03d", g), Name: fmt.Sprintf("group-%03d", g)})
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("api%05d", i)
		api := &apigwv1.Api{Id: id, Name: "api_" + id, GroupId: fmt.Sprintf("g%03d", i/100), ReqMethod: "GET", ReqUri: "/p/" + id,
			BackendApi: &apigwv1.BackendApi{UrlDomain: "10.0.0.1:80", ReqUri: "/"}}
		model.Normalize(api)
		pub := &apigwv1.Publication{Id: "pub" + id, ApiId: id, EnvId: model.ReleaseEnvID, Api: api}
		objs = append(objs, api, pub, &apigwv1.Release{ApiId: id, EnvId: model.ReleaseEnvID, PublicationId: pub.Id})
	}
	return objs
}

func BenchmarkNewInstance(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		objs := instanceObjects(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				in := model.NewInstance("default", objs)
				if in.Served("api00000", model.ReleaseEnvID) == nil {
					b.Fatal("not served")
				}
			}
		})
	}
}

// BenchmarkInstanceWith: deriving a view that republishes one API costs
// O(change), the same at 1 000 and 10 000 APIs.
func BenchmarkInstanceWith(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		in := model.NewInstance("default", instanceObjects(n))
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				id := fmt.Sprintf("api%05d", i%n)
				i++
				api := proto.Clone(in.API(id)).(*apigwv1.Api)
				api.Remark = fmt.Sprint(i)
				pub := &apigwv1.Publication{Id: fmt.Sprintf("pub%d", i), ApiId: id, EnvId: model.ReleaseEnvID, Api: api}
				next := in.With([]proto.Message{api, pub, &apigwv1.Release{ApiId: id, EnvId: model.ReleaseEnvID, PublicationId: pub.Id}}, nil)
				if next.Served(id, model.ReleaseEnvID) != pub {
					b.Fatal("not served")
				}
			}
		})
	}
}
