package translate

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
)

// TestValidPublicationsAreNeverLeftOut: an API is only left out of the
// configuration (Resources.Problems) for a reason validation cannot know
// when the API is written: every left-out publication either fails
// model.Validate (it was stored before validation refused it) or breaks a
// rule between objects that the store reports on its own (a referenced
// channel, group or environment deleted or unreadable). The instances are
// the golden inputs and random mixes and mutations of them and of the
// property pool, as in TestIncrementalEqualsFresh.
func TestValidPublicationsAreNeverLeftOut(t *testing.T) {
	lim := model.AbsoluteLimits()
	seen := 0
	check := func(step string, in *model.Instance, opts Options) {
		res, err := Build(in, opts)
		if err != nil {
			return // the whole configuration is refused, not an API
		}
		for _, p := range res.Problems {
			if p.APIID == "" {
				continue
			}
			seen++
			pub := in.Served(p.APIID, p.EnvID)
			if pub == nil {
				continue
			}
			if vs := model.Validate(pub, lim); len(vs) > 0 {
				continue
			}
			// What is written is normalized first; a record the mutations
			// left unnormalized could not have been written.
			norm := proto.Clone(pub.Api)
			model.Normalize(norm)
			if !proto.Equal(norm, pub.Api) {
				continue
			}
			if vs := in.Check(pub.Api); len(vs) > 0 {
				continue
			}
			if in.Blocked(p.APIID, p.EnvID) != "" {
				continue // served with an error until an unreadable object is fixed
			}
			if in.Env(p.EnvID) == nil || in.Group(pub.Api.GetGroupId()) == nil {
				continue
			}
			t.Errorf("%s: API %s in %s passes validation but is left out: %s", step, p.APIID, p.EnvID, p.Reason)
		}
	}
	inputs, _ := filepath.Glob(filepath.Join("testdata", "in", "*.yaml"))
	for _, f := range inputs {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		check(name, loadInstance(t, f), caseOptions[name])
	}
	pool := loadPool(t)
	seeds := 20
	if testing.Short() {
		seeds = 5
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 0x5e7e))
		in := pool.randomInstance(r)
		check(fmt.Sprintf("seed %d", seed), in, Options{})
		kinds := slices.Clone(model.Kinds())
		for _, k := range kinds {
			next, what := pool.mutate(r, in, k.Name)
			check(fmt.Sprintf("seed %d: %s %s", seed, k.Name, what), next, Options{})
			in = next
		}
	}
	if seen == 0 {
		t.Fatal("no API was left out at all: the inputs do not exercise the rule")
	}
}
