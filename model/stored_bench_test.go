package model_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// BenchmarkBuildStored compares building a view with the checks between
// objects (what the store watch does) against the plain view, side by side.
func BenchmarkBuildStored(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		objs := instanceObjects(n)
		b.Run(fmt.Sprintf("plain/%d", n), func(b *testing.B) {
			for b.Loop() {
				model.NewInstance("default", objs)
			}
		})
		b.Run(fmt.Sprintf("checked/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, problems := model.BuildStored("default", objs, nil, nil); len(problems) != 0 {
					b.Fatal(problems)
				}
			}
		})
	}
}

// BenchmarkStoredViewBatch measures what the store watch does per batch
// of events: a batch that republishes one API, with the rules between
// objects re-checked for what it affects (incremental), against checking
// every object again (BuildStored), side by side at 1 000 and 10 000 APIs.
func BenchmarkStoredViewBatch(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		objs := instanceObjects(n)
		republish := func(in *model.Instance, i int) []proto.Message {
			id := fmt.Sprintf("api%05d", i%n)
			api := proto.Clone(in.API(id)).(*apigwv1.Api)
			api.Remark = fmt.Sprint(i)
			pub := &apigwv1.Publication{Id: fmt.Sprintf("pub%d", i), ApiId: id, EnvId: model.ReleaseEnvID, Api: api}
			return []proto.Message{api, pub, &apigwv1.Release{ApiId: id, EnvId: model.ReleaseEnvID, PublicationId: pub.Id}}
		}
		b.Run(fmt.Sprintf("incremental/%d", n), func(b *testing.B) {
			sv := model.NewStoredView("default", objs, nil, nil)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e := sv.Edit()
				for _, m := range republish(sv.View(), i) {
					e.Put(m)
				}
				e.Done()
				i++
			}
			if len(sv.Problems()) != 0 {
				b.Fatal(sv.Problems())
			}
		})
		b.Run(fmt.Sprintf("full/%d", n), func(b *testing.B) {
			in := model.NewInstance("default", objs)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				in, _ = model.BuildStored("default", append(objs[:len(objs):len(objs)], republish(in, i)...), nil, nil)
				i++
			}
		})
	}
}
