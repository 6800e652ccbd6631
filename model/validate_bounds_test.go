package model_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Every interval is bounded so that the period it makes can be counted:
// APIG accepts up to 2147483647 of any unit, which no duration holds
// (2147483647 minutes are 4085 years), and a window the counter cannot
// count would switch the limit off.
func TestPeriodBounds(t *testing.T) {
	th := func(n int32, unit string) *apigwv1.Throttle {
		c := validThrottle()
		c.TimeInterval, c.TimeUnit, c.ApiCallLimits, c.UserCallLimits, c.AppCallLimits, c.IpCallLimits, c.Specials = n, unit, 1, 0, 0, 0, nil
		return c
	}
	q := func(n int32, unit string) *apigwv1.AppQuota {
		return &apigwv1.AppQuota{Name: "monthly", CallLimits: 2147483647, TimeUnit: unit, TimeInterval: n}
	}
	run(t, []rule{
		{"throttle int32 max minutes", th(2147483647, model.UnitMinute), "time_interval", "3650 days"},
		{"throttle int32 max days", th(2147483647, model.UnitDay), "time_interval", "3650 days"},
		{"throttle 3651 days", th(3651, model.UnitDay), "time_interval", "3650 days"},
		{"throttle seconds beyond", th(315360001, model.UnitSecond), "time_interval", "3650 days"},
		{"quota int32 max minutes", q(2147483647, model.UnitMinute), "time_interval", "3650 days"},
		{"quota 87601 hours", q(87601, model.UnitHour), "time_interval", "3650 days"},
		{"quota negative", q(-1, model.UnitHour), "time_interval", "at least 1"},
		{"special negative", &apigwv1.Throttle{Name: "basic", ApiCallLimits: 10, TimeInterval: 1, TimeUnit: "MINUTE",
			Specials: []*apigwv1.ThrottleSpecial{{ObjectType: "APP", ObjectId: "a", CallLimits: -5}}}, "specials[0].call_limits", "between 1"},
	})
	lim := model.InstanceLimits(model.EffectiveConfig(&apigwv1.Instance{}))
	for _, m := range []proto.Message{th(3650, model.UnitDay), th(315360000, model.UnitSecond), q(87600, model.UnitHour), q(5256000, model.UnitMinute)} {
		model.Normalize(m)
		if vs := model.Validate(m, lim); len(vs) > 0 {
			t.Errorf("%v: %v", m, vs)
		}
	}
}
