package model_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func describeProblems(ps []model.StoredProblem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s %s dropped=%v previous=%v: %s", p.Kind, p.ID, p.Dropped, p.Previous, p.Reason)
	}
	slices.Sort(out)
	return out
}

// A StoredView updated batch by batch serves the same objects (current
// version, earlier version or left out) and reports the same problems as
// BuildStored run over every stored object after each batch, with the
// versions served after the previous batch to fall back on; and the
// objects it says may have changed cover every problem that did.
func TestIncrementalStoredViewMatchesBuildStored(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkStoredViewAgainstFull(t, seed) })
	}
}

func checkStoredViewAgainstFull(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	stored := map[[2]string]proto.Message{}
	placeholders := map[[2]string]model.Placeholder{}
	served := map[[2]string]proto.Message{} // versions served after the previous batch
	sv := model.NewStoredView("default", nil, nil, nil)
	rev := int64(1)
	pick := func(m map[[2]string]bool) [2]string {
		keys := make([][2]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, cmpKey)
		return keys[r.IntN(len(keys))]
	}
	keySet := func() map[[2]string]bool {
		out := map[[2]string]bool{}
		for k := range stored {
			out[k] = true
		}
		return out
	}
	problemsBefore := func() map[[2]string][]string {
		out := map[[2]string][]string{}
		for _, p := range sv.Problems() {
			k := [2]string{p.Kind, p.ID}
			out[k] = append(out[k], describeProblems([]model.StoredProblem{p})...)
		}
		return out
	}
	for step := range 700 {
		before := problemsBefore()
		b := sv.Edit()
		deleted := map[[2]string]bool{}
		for range r.IntN(4) + 1 {
			rev += int64(r.IntN(2)) // objects of one transaction share a revision
			switch op := r.IntN(13); {
			case op < 2 && len(stored) > 0:
				k := pick(keySet())
				b.Delete(k[0], k[1])
				delete(stored, k)
				deleted[k] = true
			case op == 2 && len(stored) > 0: // deleted and written again
				k := pick(keySet())
				o := proto.Clone(stored[k])
				model.MetaOf(o).ResourceVersion = strconv.FormatInt(rev, 10)
				b.Delete(k[0], k[1])
				b.Put(o)
				stored[k] = o
				deleted[k] = true
			case op == 3:
				p := randomPlaceholder(r)
				if p.Kind == model.KindInstance {
					continue
				}
				k := [2]string{p.Kind, p.ID}
				b.SetPlaceholder(p)
				placeholders[k] = p
				delete(stored, k)
			default:
				o := randomObject(r)
				switch {
				case step%50 == 49:
					o = &apigwv1.Instance{Name: "default", Config: &apigwv1.InstanceConfig{DebugDomainSuffix: fmt.Sprintf("s%d.test", r.IntN(2))}}
				case r.IntN(40) == 0:
					o = &apigwv1.Environment{Id: model.ReleaseEnvID, Name: []string{model.ReleaseEnvName, "ENV0"}[r.IntN(2)]}
				}
				if a, ok := o.(*apigwv1.Api); ok && r.IntN(3) == 0 {
					a.ResponseId = "custom" // a response set named in the group
				}
				model.Normalize(o)
				model.MetaOf(o).ResourceVersion = strconv.FormatInt(rev, 10)
				k := [2]string{model.KindOf(o).Name, model.IDOf(o)}
				b.Put(o)
				stored[k] = o
				delete(placeholders, k)
			}
		}
		changed := b.Done()

		var all []proto.Message
		for _, o := range stored {
			all = append(all, o)
		}
		var ph []model.Placeholder
		for _, p := range placeholders {
			ph = append(ph, p)
		}
		full, problems := model.BuildStored("default", all, ph, func(kind, id string) proto.Message {
			if deleted[[2]string{kind, id}] {
				return nil
			}
			return served[[2]string{kind, id}]
		})
		clear(served)
		for k := range stored {
			if o := full.Get(k[0], k[1]); o != nil {
				served[k] = o
			}
		}

		if got, want := describeView(sv.View()), describeView(full); !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("step %d: incremental view differs from BuildStored:\n got %s\nwant %s", step, got[i], want[i])
				}
			}
			t.Fatalf("step %d: %d lines vs %d", step, len(got), len(want))
		}
		if got, want := describeProblems(sv.Problems()), describeProblems(problems); !slices.Equal(got, want) {
			t.Fatalf("step %d: problems differ:\n got %q\nwant %q", step, got, want)
		}
		after := problemsBefore()
		mayChange := map[[2]string]bool{}
		for _, k := range changed {
			mayChange[k] = true
		}
		for k := range keysOf(before, after) {
			if !mayChange[k] && !slices.Equal(before[k], after[k]) {
				t.Fatalf("step %d: problems of %v changed (%q → %q) but are not listed as changed", step, k, before[k], after[k])
			}
		}
	}
}

func keysOf(ms ...map[[2]string][]string) map[[2]string]bool {
	out := map[[2]string]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}

// A list builds the same view and problems as BuildStored.
func TestNewStoredViewMatchesBuildStored(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for round := range 50 {
		var objs []proto.Message
		prev := map[[2]string]proto.Message{}
		for i := range 40 {
			o := randomObject(r)
			model.Normalize(o)
			model.MetaOf(o).ResourceVersion = strconv.Itoa(100 + i)
			if r.IntN(3) == 0 { // an earlier version served before
				p := proto.Clone(o)
				model.MetaOf(p).ResourceVersion = strconv.Itoa(i)
				prev[[2]string{model.KindOf(o).Name, model.IDOf(o)}] = p
			}
			objs = append(objs, o)
		}
		// Later objects replace earlier ones of the same kind and id.
		byKey := map[[2]string]proto.Message{}
		for _, o := range objs {
			byKey[[2]string{model.KindOf(o).Name, model.IDOf(o)}] = o
		}
		objs = objs[:0]
		for _, o := range byKey {
			objs = append(objs, o)
		}
		lookup := func(kind, id string) proto.Message { return prev[[2]string{kind, id}] }
		sv := model.NewStoredView("default", objs, nil, lookup)
		full, problems := model.BuildStored("default", objs, nil, lookup)
		if got, want := describeView(sv.View()), describeView(full); !slices.Equal(got, want) {
			t.Fatalf("round %d: views differ", round)
		}
		if got, want := describeProblems(sv.Problems()), describeProblems(problems); !slices.Equal(got, want) {
			t.Fatalf("round %d: problems differ:\n got %q\nwant %q", round, got, want)
		}
	}
}
