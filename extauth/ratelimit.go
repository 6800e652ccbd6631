package extauth

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
	p := pluginParams{c: c, defs: rl.Params}
	for i := range rl.Rules {
		if rl.Rules[i].Expr.Eval(p) {
			return rl.Rules[i].Name
		}
	}
	return ""
}
