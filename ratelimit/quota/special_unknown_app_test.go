package quota_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
	"github.com/apigw/apigw/ratelimit/quota"
)

// A special quota naming an app id that no app has yet (as imported from
// an APIG export) is resolved by the id ext_authz reports, so it applies
// as soon as an app with that id calls, and before that it is inert.
func TestSpecialForAnAppCreatedLaterApplies(t *testing.T) {
	const later = "app-created-later"
	in := fx.NewInstance().With([]proto.Message{&apigwv1.Throttle{Id: fx.Exclusive, Name: "exclusive_policy", ApiCallLimits: 20, AppCallLimits: 7,
		TimeInterval: 1, TimeUnit: model.UnitMinute, Type: model.ThrottleExclusive,
		Specials: []*apigwv1.ThrottleSpecial{{Id: "s9", ObjectType: model.SpecialApp, ObjectId: later, CallLimits: 3}}}}, nil)
	if vs := in.Check(in.Get(model.KindThrottle, fx.Exclusive)); len(vs) > 0 {
		t.Fatalf("a special naming no app is refused: %v", vs)
	}
	d := desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, later)
	in = in.With([]proto.Message{&apigwv1.App{Id: later, Name: "later_app"}}, nil)
	l, ok := quota.Resolve(in, d)
	if !ok || l.Requests != 3 || !l.Special {
		t.Fatalf("special for the app created later: %+v", l)
	}
	if l, _ := quota.Resolve(in, desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, fx.AppPlain)); l.Requests != 7 || l.Special {
		t.Errorf("other apps keep the app limit: %+v", l)
	}
}
