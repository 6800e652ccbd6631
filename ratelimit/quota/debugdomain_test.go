package quota_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
	fx "github.com/apigw/apigw/ratelimit/internal/fixture"
	"github.com/apigw/apigw/ratelimit/quota"
)

// The debug sub-domain's calls: 1000 per UTC day, one counter per group
// (every API of the group shares it), switched off by
// sl_domain_quota_enabled false; nothing for an API not served.
func TestDebugDomainQuota(t *testing.T) {
	in := fx.NewInstance()
	d := desc(fx.APIExclusive, fx.Env, dataplane.RateLimitDimDebugDomain, "")
	l, ok := quota.Resolve(in, d)
	if !ok {
		t.Fatal("no debug-domain limit")
	}
	if l.Requests != model.DebugDomainDailyCalls || l.Period != 24*time.Hour || !l.Aligned || l.Offset != 0 || l.Name != quota.DebugDomainName || l.Error != gwresp.ErrThrottled {
		t.Errorf("limit %+v", l)
	}
	other, ok := quota.Resolve(in, desc(fx.APIDefault, fx.Env, dataplane.RateLimitDimDebugDomain, ""))
	if !ok || other.Key != l.Key {
		t.Errorf("two APIs of the group count apart: %q vs %q", l.Key, other.Key)
	}
	if _, ok := quota.Resolve(in, desc(fx.APIOffline, fx.Env, dataplane.RateLimitDimDebugDomain, "")); ok {
		t.Error("a limit for an API not served")
	}
	api := in.API(fx.APIExclusive)
	g := proto.Clone(in.Group(api.GroupId)).(*apigwv1.ApiGroup)
	g.SlDomainQuotaEnabled = proto.Bool(false)
	if _, ok := quota.Resolve(in.With([]proto.Message{g}, nil), d); ok {
		t.Error("a limit with sl_domain_quota_enabled false")
	}
}
