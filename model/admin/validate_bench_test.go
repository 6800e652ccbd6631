package admin

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/store"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// applyDocs returns what an import of n APIs applies: n/100 groups, an
// environment with a variable per group, and n APIs (100 per group), each
// referencing its group by name.
func applyDocs(n int) []proto.Message {
	docs := []proto.Message{&apigwv1.Environment{Name: "TEST"}}
	for g := range n / 100 {
		name := fmt.Sprintf("group-%04d", g)
		docs = append(docs, &apigwv1.ApiGroup{Name: name},
			&apigwv1.EnvVariable{GroupId: name, EnvId: "TEST", VariableName: "backend", VariableValue: "10.0.0.1:8080"},
			&apigwv1.GatewayResponse{GroupId: name, Name: "custom"})
	}
	for i := range n {
		docs = append(docs, &apigwv1.Api{Name: fmt.Sprintf("api_%05d", i), GroupId: fmt.Sprintf("group-%04d", i/100), ReqMethod: "GET",
			ReqUri: fmt.Sprintf("/items/%d/{id}", i), AuthType: "NONE", ResponseId: "custom",
			BackendApi: &apigwv1.BackendApi{ReqProtocol: "HTTP", UrlDomain: "#backend#", ReqUri: "/v1/items/{id}", Timeout: 3000}})
	}
	return docs
}

// validateApply runs the in-memory part of Apply (stage every document,
// then check the whole view) against an empty instance whose quotas allow
// n APIs.
func validateApply(tb testing.TB, n int, docs []proto.Message) {
	s := New(nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	q := model.DefaultQuotas()
	q.Apis, q.ApiGroups = int32(n), int32(n/100+1)
	base := &store.Loaded{Instance: model.NewInstance("default", []proto.Message{&apigwv1.Instance{Name: "default", Config: &apigwv1.InstanceConfig{Quotas: q}}})}
	t := newTx(s, base)
	t.reserve(len(docs))
	for i, d := range docs {
		if _, _, err := t.upsert(proto.Clone(d), fmt.Sprintf("resources[%d]", i), modeApply); err != nil {
			tb.Fatal(err)
		}
	}
	if err := t.finish(); err != nil {
		tb.Fatal(err)
	}
	if got := len(t.change.Puts); got != len(docs) {
		tb.Fatalf("%d puts for %d documents", got, len(docs))
	}
}

// BenchmarkApplyValidation measures the validation of one apply of 1 000
// and of 10 000 APIs, alternately in the same run, and reports their
// ratios; linear validation keeps them near 10. Each sample of the small
// size is ten applies in a row, so that both sides do the same work between
// garbage collections. Wall time keeps the fastest sample of each side (the
// least disturbed by other work on the machine); CPU time (the process's,
// garbage collection included) sums all samples.
func BenchmarkApplyValidation(b *testing.B) {
	small, large := applyDocs(1000), applyDocs(10000)
	var wallSmall, wallLarge, cpuSmall, cpuLarge time.Duration
	keep := func(d time.Duration, best *time.Duration) {
		if *best == 0 || d < *best {
			*best = d
		}
	}
	for b.Loop() {
		runtime.GC()
		start, cpu := time.Now(), cpuTime()
		for range 10 {
			validateApply(b, 1000, small)
		}
		keep(time.Since(start)/10, &wallSmall)
		cpuSmall += (cpuTime() - cpu) / 10
		runtime.GC()
		start, cpu = time.Now(), cpuTime()
		validateApply(b, 10000, large)
		keep(time.Since(start), &wallLarge)
		cpuLarge += cpuTime() - cpu
	}
	b.ReportMetric(float64(wallSmall.Microseconds())/1000, "ms/1k-apis")
	b.ReportMetric(float64(wallLarge.Microseconds())/1000, "ms/10k-apis")
	b.ReportMetric(float64(wallLarge)/float64(wallSmall), "ratio")
	if cpuSmall > 0 {
		b.ReportMetric(float64(cpuLarge)/float64(cpuSmall), "cpu-ratio")
	}
}
