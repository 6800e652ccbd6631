package envoysim

import (
	"fmt"
	"net/http"
	"net/netip"
	"sort"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbaccfgv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// rbac enforces the route's RBACPerRoute rules (else the filter's) on the
// client address: 403 when denied.
func (s *stream) rbac(filter *rbacv3.RBAC, per *anypb.Any) (*Response, error) {
	rules := filter.GetRules()
	if per != nil {
		p := &rbacv3.RBACPerRoute{}
		if err := unpack(per, p); err != nil {
			return nil, err
		}
		rules = p.GetRbac().GetRules()
	}
	if rules == nil {
		return nil, nil
	}
	matched := ""
	names := make([]string, 0, len(rules.GetPolicies()))
	for n := range rules.GetPolicies() {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ok, err := s.policyMatches(rules.GetPolicies()[n])
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", n, err)
		}
		if ok {
			matched = n
			break
		}
	}
	var denied bool
	switch rules.GetAction() {
	case rbaccfgv3.RBAC_ALLOW:
		denied = matched == ""
	case rbaccfgv3.RBAC_DENY:
		denied = matched != ""
	case rbaccfgv3.RBAC_LOG:
	default:
		return nil, fmt.Errorf("RBAC action %v is not emulated", rules.GetAction())
	}
	if !denied {
		s.tracef("rbac: allowed (%v, matched %q)", rules.GetAction(), matched)
		return nil, nil
	}
	if matched == "" {
		matched = "none"
	}
	return s.localReply(http.StatusForbidden, "RBAC: access denied", nil, "rbac_access_denied_matched_policy["+matched+"]"), nil
}

func (s *stream) policyMatches(p *rbaccfgv3.Policy) (bool, error) {
	if p.GetCondition() != nil || p.GetCheckedCondition() != nil {
		return false, fmt.Errorf("policy conditions are not emulated")
	}
	perm := false
	for _, pm := range p.GetPermissions() {
		if !pm.GetAny() {
			return false, fmt.Errorf("permission %v is not emulated", pm)
		}
		perm = true
	}
	if !perm {
		return false, nil
	}
	for _, pr := range p.GetPrincipals() {
		ok, err := s.principal(pr)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func (s *stream) principal(p *rbaccfgv3.Principal) (bool, error) {
	switch id := p.GetIdentifier().(type) {
	case *rbaccfgv3.Principal_Any:
		return id.Any, nil
	case *rbaccfgv3.Principal_RemoteIp:
		return inCIDR(s.remote, id.RemoteIp)
	case *rbaccfgv3.Principal_DirectRemoteIp:
		return inCIDR(s.peer, id.DirectRemoteIp)
	case *rbaccfgv3.Principal_OrIds:
		for _, sub := range id.OrIds.GetIds() {
			if ok, err := s.principal(sub); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case *rbaccfgv3.Principal_AndIds:
		for _, sub := range id.AndIds.GetIds() {
			if ok, err := s.principal(sub); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case *rbaccfgv3.Principal_NotId:
		ok, err := s.principal(id.NotId)
		return !ok, err
	}
	return false, fmt.Errorf("principal %T is not emulated", p.GetIdentifier())
}

func inCIDR(addr string, r *corev3.CidrRange) (bool, error) {
	ip, err := netip.ParseAddr(hostOf(addr))
	if err != nil {
		return false, fmt.Errorf("client address %q: %w", addr, err)
	}
	pfx, err := netip.ParsePrefix(fmt.Sprintf("%s/%d", r.GetAddressPrefix(), r.GetPrefixLen().GetValue()))
	if err != nil {
		return false, err
	}
	return pfx.Masked().Contains(ip.Unmap()), nil
}
