package extauth

import (
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

// checkIPACLs applies the IP ACL policies bound to (API, environment) before
// authentication (docs/apig-semantics.md#acls): a PERMIT list must contain
// the real client IP, a DENY list must not.
func (c *call) checkIPACLs() *denial {
	for _, a := range c.target.plan.acls {
		if a.EntityType != model.EntityIP {
			continue
		}
		p, err := loadOrCompile(&c.plans.acls, a, func() (*aclPlan, error) { return compileACL(a) })
		if err != nil {
			return &denial{reason: ReasonInternal, err: gwresp.ErrInternal, cause: err}
		}
		ip, ok := c.clientIP()
		if !ok {
			return deny(ReasonUnknownClientIP, gwresp.ErrUnknownClientIP)
		}
		if p.ips.Contains(ip) != p.permit {
			return deny(ReasonIPDenied, gwresp.ErrIPDenied)
		}
	}
	return nil
}

// checkAccountACLs applies the account ACL policies (DOMAIN: account name,
// DOMAIN_ID: account id) to IAM-authenticated calls
// (docs/apig-semantics.md#acls). When a whitelist exists only whitelists are
// evaluated; otherwise every blacklist is; the name and id results are
// AND-ed.
func (c *call) checkAccountACLs() *denial {
	if !c.caller.iamAuth {
		return nil
	}
	var permits, denies []*aclPlan
	for _, a := range c.target.plan.acls {
		if a.EntityType != model.EntityDomain && a.EntityType != model.EntityDomainID {
			continue
		}
		p, err := loadOrCompile(&c.plans.acls, a, func() (*aclPlan, error) { return compileACL(a) })
		if err != nil {
			return &denial{reason: ReasonInternal, err: gwresp.ErrInternal, cause: err}
		}
		if p.permit {
			permits = append(permits, p)
		} else {
			denies = append(denies, p)
		}
	}
	listed := func(p *aclPlan) bool {
		if p.entity == model.EntityDomain {
			return c.caller.accName != "" && p.names[c.caller.accName]
		}
		return p.names[c.caller.account]
	}
	if len(permits) > 0 {
		for _, p := range permits {
			if !listed(p) {
				return deny(ReasonAccountDenied, gwresp.ErrIAMForbidden)
			}
		}
		return nil
	}
	for _, p := range denies {
		if listed(p) {
			return deny(ReasonAccountDenied, gwresp.ErrIAMForbidden)
		}
	}
	return nil
}
