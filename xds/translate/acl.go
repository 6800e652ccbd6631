package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// rbacRoute turns the IP ACL bound to a publication into a per-route RBAC
// policy on the client address (XFF-aware per the instance's trusted
// hops): PERMIT allows only the listed addresses, DENY rejects them. APIG
// a-b ranges become minimal CIDR sets. Account ACLs are left to ext_authz.
// It returns nil when no IP ACL is bound.
func rbacRoute(acls []*apigwv1.Acl) (*rbacv3.RBACPerRoute, error) {
	for _, a := range acls {
		if a.EntityType != model.EntityIP {
			continue
		}
		set, err := model.ParseIPSet(model.SplitList(a.AclValue))
		if err != nil {
			return nil, err
		}
		var principals []*rbacconfigv3.Principal
		for _, r := range set {
			for _, p := range r.Prefixes() {
				principals = append(principals, &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_RemoteIp{
					RemoteIp: &corev3.CidrRange{AddressPrefix: p.Addr().String(), PrefixLen: wrapperspb.UInt32(uint32(p.Bits()))},
				}})
			}
		}
		action := rbacconfigv3.RBAC_ALLOW
		if a.AclType == model.ACLDeny {
			action = rbacconfigv3.RBAC_DENY
		}
		return &rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: &rbacconfigv3.RBAC{
			Action: action,
			Policies: map[string]*rbacconfigv3.Policy{"acl." + a.Id: {
				Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
				Principals:  principals,
			}},
		}}}, nil
	}
	return nil, nil
}

// envoyKnowsClientIP reports whether Envoy's remote address is the client IP
// the instance's settings define
// (docs/apig-semantics.md#instance-parameters): it is with the TCP peer or
// with XFF counted from the right (trusted hops), not with a custom header or
// XFF counted from the left. Otherwise IP ACLs are left to ext_authz, which
// reads the configured address.
func envoyKnowsClientIP(cfg *apigwv1.InstanceConfig) bool {
	if cfg.GetRealIpHeaderGetter().GetEnable() {
		return false
	}
	x := cfg.GetRealIpFromXff()
	return !x.GetEnable() || x.GetXffIndex() < 0
}

func hasIPACL(acls []*apigwv1.Acl) bool {
	for _, a := range acls {
		if a.EntityType == model.EntityIP {
			return true
		}
	}
	return false
}
