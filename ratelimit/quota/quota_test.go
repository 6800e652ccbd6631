package quota_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
	"github.com/apigw/apigw/ratelimit/quota"
)

func desc(api, env, dim, subject string) dataplane.RateLimitDescriptor {
	return dataplane.RateLimitDescriptor{Instance: fx.Instance, API: api, Env: env, Dim: dim, Subject: subject}
}

func TestResolve(t *testing.T) {
	in := fx.NewInstance()
	type want struct {
		requests uint64
		period   time.Duration
		name     string
		special  bool
		def      bool
	}
	cases := []struct {
		name string
		d    dataplane.RateLimitDescriptor
		want *want // nil: no limit applies
	}{
		{"exclusive api", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimAPI, ""), &want{10, time.Minute, "exclusive_policy", false, false}},
		{"exclusive user", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimUser, "acct-x"), &want{5, time.Minute, "exclusive_policy", false, false}},
		{"exclusive app", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, fx.AppPlain), &want{3, time.Minute, "exclusive_policy", false, false}},
		{"exclusive ip", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimIP, "10.0.0.1"), &want{4, time.Minute, "exclusive_policy", false, false}},
		// Special quotas replace the app limit, below or above it.
		{"special app below default", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, fx.AppSpecialLow), &want{2, time.Minute, "exclusive_policy", true, false}},
		{"special app above default", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, fx.AppSpecialHigh), &want{4, time.Minute, "exclusive_policy", true, false}},
		{"special tenant", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimUser, fx.AccountSpecial), &want{1, time.Minute, "exclusive_policy", true, false}},
		// An app id that is a special *tenant* id gets the app default.
		{"special types do not mix", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, fx.AccountSpecial), &want{3, time.Minute, "exclusive_policy", false, false}},
		{"shared api", desc(fx.APIShared1, fx.Env, dataplane.RateLimitDimAPI, ""), &want{6, 10 * time.Second, "shared_policy", false, false}},
		{"shared policy without app limit", desc(fx.APIShared1, fx.Env, dataplane.RateLimitDimApp, fx.AppPlain), nil},
		{"shared policy without ip limit", desc(fx.APIShared1, fx.Env, dataplane.RateLimitDimIP, "10.0.0.1"), nil},
		{"instance default", desc(fx.APIDefault, fx.Env, dataplane.RateLimitDimAPI, ""), &want{fx.APILimits, time.Second, quota.DefaultName, false, true}},
		{"instance default in the other env", desc(fx.APIExclusive, fx.Release, dataplane.RateLimitDimAPI, ""), &want{fx.APILimits, time.Second, quota.DefaultName, false, true}},
		{"no app limit without policy", desc(fx.APIDefault, fx.Env, dataplane.RateLimitDimApp, fx.AppPlain), nil},
		{"subject missing", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, ""), nil},
		{"not published", desc(fx.APIOffline, fx.Env, dataplane.RateLimitDimAPI, ""), nil},
		{"unknown api", desc("nope", fx.Env, dataplane.RateLimitDimAPI, ""), nil},
		{"unknown dim", desc(fx.APIExclusive, fx.Env, "color", "red"), nil},
		{"request descriptor", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimRequest, ""), nil},
		{"credential quota", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimAppQuota, fx.AppPlain), &want{5, time.Hour, "hourly_quota", false, false}},
		{"credential quota on any api", desc(fx.APIDefault, fx.Env, dataplane.RateLimitDimAppQuota, fx.AppPlain), &want{5, time.Hour, "hourly_quota", false, false}},
		{"app without quota", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimAppQuota, fx.AppSpecialHigh), nil},
		{"unknown app quota", desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimAppQuota, "ghost"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, ok := quota.Resolve(in, c.d)
			if c.want == nil {
				if ok {
					t.Fatalf("got limit %+v, want none", l)
				}
				return
			}
			if !ok {
				t.Fatal("no limit, want one")
			}
			w := c.want
			if l.Requests != w.requests || l.Period != w.period || l.Name != w.name || l.Special != w.special || l.Default != w.def || l.Dim != c.d.Dim {
				t.Fatalf("got %+v, want %+v", l, *w)
			}
			if l.Key == "" {
				t.Fatal("empty key")
			}
		})
	}
	if _, ok := quota.Resolve(nil, desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimAPI, "")); ok {
		t.Error("nil instance gave a limit")
	}
}

func key(t *testing.T, in *model.Instance, d dataplane.RateLimitDescriptor) string {
	t.Helper()
	l, ok := quota.Resolve(in, d)
	if !ok {
		t.Fatalf("%+v: no limit", d)
	}
	return l.Key
}

func TestKeysScope(t *testing.T) {
	in := fx.NewInstance()
	api := func(a, env string) string { return key(t, in, desc(a, env, dataplane.RateLimitDimAPI, "")) }
	app := func(a, id string) string { return key(t, in, desc(a, fx.Env, dataplane.RateLimitDimApp, id)) }
	if api(fx.APIShared1, fx.Env) != api(fx.APIShared2, fx.Env) {
		t.Error("APIs bound to a shared policy must share the api counter")
	}
	if api(fx.APIExclusive, fx.Env) == api(fx.APIDefault, fx.Env) {
		t.Error("exclusive and default counters collide")
	}
	if api(fx.APIExclusive, fx.Env) == api(fx.APIExclusive, fx.Release) {
		t.Error("environments share a counter")
	}
	// A special quota replaces the limit, not the counter.
	if app(fx.APIExclusive, fx.AppSpecialLow) == app(fx.APIExclusive, fx.AppPlain) {
		t.Error("apps share a counter")
	}
	q1 := key(t, in, desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimAppQuota, fx.AppPlain))
	q2 := key(t, in, desc(fx.APIShared1, fx.Release, dataplane.RateLimitDimAppQuota, fx.AppPlain))
	if q1 != q2 {
		t.Errorf("credential quota counters differ across APIs: %q vs %q", q1, q2)
	}
	// The api, user, app and ip counters of one scope share a hash tag.
	tag := func(k string) string { return k[:strings.IndexByte(k, '}')+1] }
	if tag(api(fx.APIExclusive, fx.Env)) != tag(app(fx.APIExclusive, fx.AppPlain)) {
		t.Error("one scope's counters have different hash tags")
	}
}

func TestEditingLimitsKeepsKeys(t *testing.T) {
	in := fx.NewInstance()
	d := desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, fx.AppSpecialLow)
	before := key(t, in, d)
	edited := in.With([]proto.Message{&apigwv1.Throttle{Id: fx.Exclusive, Name: "exclusive_policy", ApiCallLimits: 20, AppCallLimits: 7,
		TimeInterval: 1, TimeUnit: model.UnitMinute, Type: model.ThrottleExclusive}}, nil)
	l, ok := quota.Resolve(edited, d)
	if !ok || l.Requests != 7 || l.Special {
		t.Fatalf("after removing the special quota: %+v, want the app default 7", l)
	}
	if l.Key != before {
		t.Errorf("editing limits changed the counter key: %q → %q", before, l.Key)
	}
	shared := in.With([]proto.Message{&apigwv1.Throttle{Id: fx.Exclusive, Name: "exclusive_policy", ApiCallLimits: 20, AppCallLimits: 7,
		TimeInterval: 1, TimeUnit: model.UnitMinute, Type: model.ThrottleShared}}, nil)
	if l, _ := quota.Resolve(shared, d); l.Key == before {
		t.Error("switching the policy to shared kept the per-API counter")
	}
}

func TestCredentialQuotaAlignment(t *testing.T) {
	in := fx.NewInstance()
	l, _ := quota.Resolve(in, desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimAppQuota, fx.AppPlain))
	if !l.Aligned || l.Offset != 5*time.Minute {
		t.Fatalf("reset %s hourly: aligned=%v offset=%v, want windows at :05", fx.QuotaReset, l.Aligned, l.Offset)
	}
	if l.Error != gwresp.ErrAppQuota {
		t.Errorf("error %v, want APIG.0501", l.Error)
	}
	// A daily quota resetting at 05:05 is offset by 5h5m; without a reset
	// time it aligns to the quota's creation.
	daily := in.With([]proto.Message{&apigwv1.AppQuota{Id: fx.AppQuota, Name: "q", CallLimits: 1, TimeInterval: 1, TimeUnit: model.UnitDay, ResetTime: fx.QuotaReset}}, nil)
	if l, _ := quota.Resolve(daily, desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimAppQuota, fx.AppPlain)); l.Offset != 5*time.Hour+5*time.Minute {
		t.Errorf("daily offset %v", l.Offset)
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	noReset := in.With([]proto.Message{&apigwv1.AppQuota{Id: fx.AppQuota, Name: "q", CallLimits: 1, TimeInterval: 1, TimeUnit: model.UnitDay,
		Meta: &apigwv1.Meta{CreateTime: timestamppb.New(created)}}}, nil)
	if l, _ := quota.Resolve(noReset, desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimAppQuota, fx.AppPlain)); l.Offset != 3*time.Hour+4*time.Minute+5*time.Second {
		t.Errorf("offset without reset time %v, want the creation time of day", l.Offset)
	}
	if l, _ := quota.Resolve(in, desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimApp, fx.AppPlain)); l.Aligned || l.Error != gwresp.ErrThrottled {
		t.Errorf("throttling limit: %+v, want sliding with APIG.0308", l)
	}
}

// The policy hierarchy (docs/apig-semantics.md#throttling) is enforced when
// definitions are validated, so Resolve can rely on it.
func TestHierarchyValidated(t *testing.T) {
	lim := model.InstanceLimits(fx.NewInstance().Config)
	bad := []*apigwv1.Throttle{
		{Name: "app_over_user", ApiCallLimits: 10, UserCallLimits: 5, AppCallLimits: 6, TimeInterval: 1},
		{Name: "user_over_api", ApiCallLimits: 10, UserCallLimits: 11, TimeInterval: 1},
		{Name: "ip_over_api", ApiCallLimits: 10, IpCallLimits: 11, TimeInterval: 1},
		{Name: "special_over_api", ApiCallLimits: 10, TimeInterval: 1, Specials: []*apigwv1.ThrottleSpecial{{ObjectType: model.SpecialApp, ObjectId: "a", CallLimits: 11}}},
		{Name: "over_instance", ApiCallLimits: fx.APILimits + 1, TimeInterval: 1, TimeUnit: model.UnitSecond},
	}
	for _, th := range bad {
		model.Normalize(th)
		if vs := model.Validate(th, lim); len(vs) == 0 {
			t.Errorf("%s: accepted", th.Name)
		}
	}
	ok := &apigwv1.Throttle{Name: "fine_policy", ApiCallLimits: 10, UserCallLimits: 5, AppCallLimits: 5, IpCallLimits: 10, TimeInterval: 1}
	model.Normalize(ok)
	if vs := model.Validate(ok, lim); len(vs) != 0 {
		t.Errorf("valid policy rejected: %v", vs)
	}
}
