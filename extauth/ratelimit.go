package extauth

import (
	"github.com/apigw/apigw/model"
)

// Request Throttling 2.0 (the rate_limit plug-in, docs/plugins.md#rate_limit):
// ext_authz evaluates the plug-in's rules, top-down, on the request it
// admits and names the first rule that matches in its dynamic metadata
// (dataplane.ExtAuthzMetaRateLimitRule); the route's rule descriptor
// carries the name to the rate-limit service, which applies the rule's
// limit.

// rateRule returns the name of the first rule of the API's rate_limit
// plug-in whose expression matches the request ("" when none does or no
// plug-in with rules is bound).
func (c *call) rateRule() string {
	rl := c.target.plan.rateLimit
	if rl == nil {
		return ""
	}
	p := rateParams{c: c, defs: rl.Params}
	for i := range rl.Rules {
		if rl.Rules[i].Expr.Eval(p) {
			return rl.Rules[i].Name
		}
	}
	return ""
}

// rateParams reads the plug-in's parameters from the request.
type rateParams struct {
	c    *call
	defs []model.RateLimitParam
}

// Param implements matchexpr.Params: header and query parameters are
// the first value (Host is the request's :authority), path the request path as sent (without the query),
// method the client's method, system a gateway system parameter.
func (p rateParams) Param(name string) (string, bool) {
	for i := range p.defs {
		d := &p.defs[i]
		if d.Name != name {
			continue
		}
		switch d.Type {
		case model.RateLimitParamHeader:
			if d.Value == "host" && p.c.req.host != "" {
				// Envoy carries Host as :authority.
				return p.c.req.host, true
			}
			if vs := p.c.req.hdr.Values(d.Value); len(vs) > 0 {
				return vs[0], true
			}
			return "", false
		case model.RateLimitParamQuery:
			return p.c.req.queryValue(d.Value)
		case model.RateLimitParamPath:
			if p.c.req.path == "" {
				return "/", true
			}
			return p.c.req.path, true
		case model.RateLimitParamMethod:
			return p.c.req.method, true
		case model.RateLimitParamSystem:
			return p.c.systemValue(model.SysParamInternal, d.Value)
		}
		return "", false
	}
	return "", false
}
