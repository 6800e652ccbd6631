package inputs

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func withThrottle(in *model.Instance, limit int32) *model.Instance {
	return in.With([]proto.Message{
		&apigwv1.Throttle{Id: "t1", Name: "t1", ApiCallLimits: limit, TimeInterval: 1, TimeUnit: "SECOND"},
		&apigwv1.ThrottleBinding{Id: "tb1", ApiId: "a1", EnvId: model.ReleaseEnvID, StrategyId: "t1"},
	}, nil)
}

// A Record checked on the previous Snapshot holds without a replay when no
// part its lookups depend on changed, and is replayed when one did.
func TestUnchangedPartsNeedNoReplay(t *testing.T) {
	in := withThrottle(testInstance("g"), 10)
	s1 := Open(in, nil)
	v := s1.Track()
	if v.ThrottleFor("a1", model.ReleaseEnvID) == nil {
		t.Fatal("the throttle is not bound")
	}
	rec, checked := v.Record(), s1.Seq()

	// A remark of the group: no throttle part changes.
	g := proto.Clone(in.Group("g1")).(*apigwv1.ApiGroup)
	g.Remark = "x"
	s2 := Open(in.With([]proto.Message{g}, nil), s1)
	if s2.changed&(1<<opThrottleFor) != 0 {
		t.Fatal("a group edit marks the throttle lookups changed")
	}
	if !s2.Holds(rec, &checked) || checked != s2.Seq() {
		t.Fatalf("the Record does not hold after an unrelated edit (checked %d, seq %d)", checked, s2.Seq())
	}
	// A new limit: the part changed, the replay finds the new policy.
	s3 := Open(withThrottle(s2.in, 20), s2)
	if s2.changed&(1<<opThrottleFor) != 0 || s3.changed&(1<<opThrottleFor) == 0 {
		t.Fatal("the throttle edit is not seen as a change of the throttle lookups")
	}
	if s3.Holds(rec, &checked) {
		t.Error("the Record holds although the bound throttle changed")
	}
}

// The skip is only sound from the Snapshot a Record was last checked on: a
// Record not checked while a part changed is replayed later even when
// nothing changed since.
func TestSkippedSnapshotsForceAReplay(t *testing.T) {
	in := withThrottle(testInstance("g"), 10)
	s1 := Open(in, nil)
	v := s1.Track()
	v.ThrottleFor("a1", model.ReleaseEnvID)
	rec, checked := v.Record(), s1.Seq()

	s2 := Open(withThrottle(in, 20), s1) // not checked on s2
	g := proto.Clone(in.Group("g1")).(*apigwv1.ApiGroup)
	g.Remark = "x"
	s3 := Open(s2.in.With([]proto.Message{g}, nil), s2)
	if s3.changed&(1<<opThrottleFor) != 0 {
		t.Fatal("the group edit marks the throttle lookups changed")
	}
	if s3.Holds(rec, &checked) {
		t.Error("a Record checked two Snapshots ago holds although the throttle changed in between")
	}
}

// Every lookup has its dependencies listed, and the mask has room for all.
func TestEveryLookupHasDependencies(t *testing.T) {
	if len(opDeps) > 32 {
		t.Fatalf("%d lookups do not fit the uint32 masks", len(opDeps))
	}
	for o, d := range opDeps {
		if d.kinds == nil && d.parts == nil && !d.name && !d.config && !d.envs {
			t.Errorf("lookup %d has no dependencies listed: it is replayed every time", o)
		}
	}
	if int(opOIDCPlugins) >= len(opDeps) {
		t.Errorf("the last lookup is missing from opDeps")
	}
}
