package model

import (
	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Instance parameter defaults and absolute bounds
// (docs/apig-semantics.md#instance-parameters).
const (
	DefaultAPILimits         = 200
	MaxAPILimits             = 1_000_000
	DefaultRequestBodySize   = 12 << 20
	MinRequestBodySize       = 1 << 20
	MaxRequestBodySize       = 9536 << 20
	DefaultMaxTimeout        = 60_000
	AbsoluteMaxTimeout       = 600_000
	DefaultBackendTimeout    = 5_000
	DefaultDebugSuffix       = "apigw.local"
	DefaultAccountClaim      = "sub"
	DefaultAccountNameClaim  = "name"
	DefaultAuthorizerTimeout = 5_000
)

// DefaultQuotas are the default instance quotas
// (docs/apig-semantics.md#names-and-quotas).
func DefaultQuotas() *apigwv1.Quotas {
	return &apigwv1.Quotas{
		ApiGroups: 1500, ApisPerGroup: 1000, Apis: 8000, Apps: 50, AppCodesPerApp: 5,
		Throttles: 300, ThrottleSpecials: 30, Environments: 10, Acls: 100, VpcChannels: 200,
		MembersPerChannel: 10, VariablesPerEnv: 50, DomainsPerGroup: 5, ParamsPerApi: 50,
		PublicationRecords: 10, Authorizers: 50, ResponseSetsPerGroup: 4, TagsPerApi: 10,
		AppQuotas: 50, Certificates: 200, Signatures: 200,
	}
}

// EffectiveConfig returns the instance parameters with every default filled
// in. The result is a new message.
func EffectiveConfig(in *apigwv1.Instance) *apigwv1.InstanceConfig {
	c := proto.Clone(in.GetConfig()).(*apigwv1.InstanceConfig)
	if c == nil {
		c = &apigwv1.InstanceConfig{}
	}
	if c.Ratelimit == nil {
		c.Ratelimit = &apigwv1.RatelimitFeature{}
	}
	if c.Ratelimit.ApiLimits == 0 {
		c.Ratelimit.ApiLimits = DefaultAPILimits
	}
	if c.RequestBodySize == 0 {
		c.RequestBodySize = DefaultRequestBodySize
	}
	if c.BackendTimeout == nil {
		c.BackendTimeout = &apigwv1.BackendTimeoutFeature{}
	}
	if c.BackendTimeout.MaxTimeout == 0 {
		c.BackendTimeout.MaxTimeout = DefaultMaxTimeout
	}
	if c.RealIpFromXff == nil {
		c.RealIpFromXff = &apigwv1.RealIpFromXff{XffIndex: -1}
	}
	if c.RealIpHeaderGetter == nil {
		c.RealIpHeaderGetter = &apigwv1.RealIpHeaderGetter{}
	}
	if c.CustomAuthHeader == nil {
		c.CustomAuthHeader = &apigwv1.CustomAuthHeader{}
	}
	if c.DebugDomainSuffix == "" {
		c.DebugDomainSuffix = DefaultDebugSuffix
	}
	q := DefaultQuotas()
	if c.Quotas != nil {
		proto.Merge(q, c.Quotas) // non-zero fields override
	}
	c.Quotas = q
	if c.Iam == nil {
		c.Iam = &apigwv1.IamConfig{}
	}
	if c.Iam.AccountClaim == "" {
		c.Iam.AccountClaim = DefaultAccountClaim
	}
	if c.Iam.AccountNameClaim == "" {
		c.Iam.AccountNameClaim = DefaultAccountNameClaim
	}
	return c
}

// Limits are the bounds definitions are validated against. Writes through
// the admin API use the instance's limits; objects read from etcd are held
// to the absolute bounds only, so that lowering an instance limit never
// takes existing definitions out of service.
type Limits struct {
	MaxTimeout int32
	APILimits  int32
	Quotas     *apigwv1.Quotas
}

// InstanceLimits are the limits of an instance configuration.
func InstanceLimits(c *apigwv1.InstanceConfig) Limits {
	return Limits{MaxTimeout: c.GetBackendTimeout().GetMaxTimeout(), APILimits: c.GetRatelimit().GetApiLimits(), Quotas: c.GetQuotas()}
}

// AbsoluteLimits are the widest bounds any instance may configure.
func AbsoluteLimits() Limits {
	return Limits{MaxTimeout: AbsoluteMaxTimeout, APILimits: MaxAPILimits, Quotas: DefaultQuotas()}
}
