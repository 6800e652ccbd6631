package translate_test

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/xds/translate"
	"github.com/apigw/apigw/xds/xdstest"
)

// The rate-limit actions that do not name the API (instance, environment,
// dimension, request headers, the debug and debug sub-domain matches) are
// one message shared by every route of a Builder, while each API keeps its
// own api_id key; the shared messages marshal exactly as separate ones
// (a Builder's result equals a fresh translation, and the goldens).
func TestRateLimitActionsShared(t *testing.T) {
	in := instance(t, 2, 4)
	b := translate.NewBuilder(translate.Options{})
	got, err := b.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := translate.Build(in, translate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	equalResources(t, got, want)

	// By the dimension of the descriptor (its 4th action) and the
	// position of an action: the actions seen, and the API each came
	// from.
	type slot struct {
		dim string
		pos int
	}
	seen := map[slot]map[*routev3.RateLimit_Action]string{}
	apis := map[string]bool{}
	for _, vh := range vhosts(got) {
		for _, r := range vh.Routes {
			api := r.GetMetadata().GetFilterMetadata()[dataplane.AccessLogRouteNamespace].GetFields()[dataplane.AccessLogRouteAPI].GetStringValue()
			for _, rl := range r.GetRoute().GetRateLimits() {
				if len(rl.Actions) < 4 {
					t.Fatalf("route %s: a rate limit with %d actions", r.Name, len(rl.Actions))
				}
				dim := rl.Actions[3].GetGenericKey().GetDescriptorValue()
				for pos, a := range rl.Actions {
					s := slot{dim, pos}
					if seen[s] == nil {
						seen[s] = map[*routev3.RateLimit_Action]string{}
					}
					seen[s][a] = api
				}
				apis[api] = true
			}
		}
	}
	if len(apis) < 8 {
		t.Fatalf("rate limits of %d APIs, want 8", len(apis))
	}
	for _, dim := range []string{dataplane.RateLimitDimAPI, dataplane.RateLimitDimRequest, dataplane.RateLimitDimDebug} {
		if seen[slot{dim, 0}] == nil {
			t.Fatalf("no %s descriptor", dim)
		}
	}
	for s, actions := range seen {
		if s.pos == 1 { // api_id: one per API
			byAPI := map[string]bool{}
			for _, api := range actions {
				byAPI[api] = true
			}
			if len(byAPI) != len(actions) || len(actions) < 2 {
				t.Errorf("%s descriptor: %d api_id actions for %d APIs", s.dim, len(actions), len(byAPI))
			}
			continue
		}
		if s.dim == dataplane.RateLimitDimDebugDomain && s.pos == 4 {
			if len(actions) > 2 { // one per group's debug sub-domain
				t.Errorf("%s descriptor, action %d: %d messages for 2 groups", s.dim, s.pos, len(actions))
			}
			continue
		}
		if len(actions) != 1 {
			t.Errorf("%s descriptor, action %d: %d messages, want one shared", s.dim, s.pos, len(actions))
		}
	}
}

// An API translated again by a later build (after a change) gets the
// same shared actions, which that build leaves unchanged.
func TestRateLimitActionsSharedAcrossBuilds(t *testing.T) {
	in := instance(t, 1, 2)
	b := translate.NewBuilder(translate.Options{})
	first, err := b.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	inst := vhosts(first)[0].Routes[0].GetRoute().GetRateLimits()[0].Actions[0]
	before := proto.Clone(inst)
	changed, err := xdstest.Change(in, "g000", 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	next, err := b.Build(changed)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range vhosts(next)[0].Routes {
		if r.GetMetadata().GetFilterMetadata()[dataplane.AccessLogRouteNamespace].GetFields()[dataplane.AccessLogRouteAPI].GetStringValue() != "g000-a0001" {
			continue
		}
		for _, x := range r.GetRoute().GetRateLimits() {
			if x.Actions[0] != inst {
				t.Errorf("route %s: the re-translated API's instance key is a new message", r.Name)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no rate limits on the changed API's routes")
	}
	if !proto.Equal(before, inst) {
		t.Error("a later build changed a shared action")
	}
}
