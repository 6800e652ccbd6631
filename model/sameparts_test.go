package model_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	"github.com/apigw/apigw/xds/xdstest"
)

// The identity comparisons tell apart what changed from what did not:
// republishing a release keeps the served releases and the groups, and
// changes the served records; publishing or unpublishing a release
// changes the served releases.
func TestSamePartsFollowChanges(t *testing.T) {
	in, err := xdstest.Instance("default", xdstest.Objects(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	republished, err := xdstest.Change(in, "g000", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !republished.SameServedReleases(in) || republished.SamePart(in, model.PartServed) {
		t.Error("a republished release: same releases, new records expected")
	}
	if !republished.SameObjects(in, model.KindGroup) || republished.SameObjects(in, model.KindAPI) {
		t.Error("a republished API: same groups, new APIs expected")
	}
	if !republished.SamePart(in, model.PartThrottles) || !republished.SamePart(in, model.PartACLs) || !republished.SamePart(in, model.PartHolds) {
		t.Error("a republished API changed the policy indexes")
	}
	keys, pubs := republished.ServedAllKeyed()
	if !slices.IsSorted(keys) || len(keys) != 6 || !slices.Equal(pubs, republished.ServedAll()) || !slices.Equal(republished.ServedAt(keys), pubs) {
		t.Errorf("ServedAllKeyed: %v", keys)
	}

	api := xdstest.API("g001", 9, 1)
	added := in.With([]proto.Message{api}, nil)
	pub, err := xdstest.Publish(added, api.Id, 1)
	if err != nil {
		t.Fatal(err)
	}
	added = added.With(pub, nil)
	if added.SameServedReleases(in) {
		t.Error("a new release: the served releases must differ")
	}
	rel := pub[1].(*apigwv1.Release)
	removed := added.With(nil, [][2]string{{model.KindRelease, model.IDOf(rel)}})
	if removed.SameServedReleases(added) {
		t.Error("an unpublished release: the served releases must differ")
	}
	if len(removed.ServedAll()) != len(in.ServedAll()) {
		t.Errorf("after unpublishing: %d served, want %d", len(removed.ServedAll()), len(in.ServedAll()))
	}
	if again := removed.With([]proto.Message{proto.Clone(in.Group("g000"))}, nil); !again.SameServedReleases(removed) {
		t.Error("a group edit changed the served releases")
	}
}
