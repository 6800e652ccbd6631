package extauth

import (
	"strings"

	"github.com/apigw/apigw/model"
)

// selectBackend evaluates the policy backends in order; the first whose
// conditions hold (ANY or ALL) serves the request, else the default
// backend (docs/apig-semantics.md#policy-backends).
func (c *call) selectBackend() *denial {
	c.backend.plan = &c.target.plan.def
	for i := range c.target.plan.policies {
		p := &c.target.plan.policies[i]
		if c.policyMatches(p) {
			c.backend.plan = &p.backendPlan
			break
		}
	}
	return nil
}

func (c *call) policyMatches(p *policyPlan) bool {
	if len(p.conds) == 0 {
		return false
	}
	for i := range p.conds {
		m := c.condMatches(&p.conds[i])
		if m && !p.all {
			return true
		}
		if !m && p.all {
			return false
		}
	}
	return p.all
}

func (c *call) condMatches(cp *condPlan) bool {
	var v string
	var ok bool
	fold := false
	switch cp.origin {
	case model.CondSource:
		ip, ok := c.clientIP()
		return ok && cp.ips.Contains(ip)
	case model.CondParam:
		if cp.param >= 0 && c.params.vals[cp.param].ok {
			v, ok = c.params.vals[cp.param].v, true
		}
	case model.CondSystem:
		if cp.sys == "method" {
			v, ok, fold = c.req.method, true, true
		} else {
			v, ok = unescape(c.req.path), true
		}
	case model.CondCookie:
		v, ok = c.req.cookie(cp.cookie)
	case model.CondFrontendAuthorizer:
		v, ok = c.caller.frontCtx[cp.ctxKey]
	}
	if !ok {
		return false
	}
	if cp.re != nil {
		return cp.re.MatchString(v)
	}
	for _, want := range cp.values {
		if v == want || (fold && strings.EqualFold(v, want)) {
			return true
		}
	}
	return false
}
