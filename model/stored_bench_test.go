package model_test

import (
	"fmt"
	"testing"

	"github.com/apigw/apigw/model"
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
