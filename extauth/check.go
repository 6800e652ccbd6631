package extauth

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

type kv struct{ k, v string }

// pval is the value of a declared request parameter.
type pval struct {
	v, raw    string // decoded value; raw is the path segment(s) as sent
	ok        bool   // present in the request or filled by its default
	defaulted bool
}

// run performs the checks in APIG's order
// (docs/apig-semantics.md#request-time-order): API, protocol, IP
// ACL, authentication (and two-factor), credential authorization and ACL,
// the jwt_auth and third_auth plug-ins, account ACL, parameters, policy backend, breaker,
// backend authorizer, backend parameters, backend signature.
func (c *call) run() *denial {
	steps := [...]func() *denial{
		c.resolve, c.checkProtocol, c.matchPath, c.checkIPACLs, c.authenticate, c.authJWT, c.authThird,
		c.checkAccountACLs, c.checkParams, c.orchestrate, c.selectBackend, c.checkBreaker, c.backendAuthorizer, c.mapBackend, c.signBackend,
	}
	for _, step := range steps {
		if d := step(); d != nil {
			return d
		}
	}
	return nil
}

func (c *call) resolve() *denial {
	ext := c.cr.GetAttributes().GetContextExtensions()
	c.target.groupID = ext[dataplane.ExtAuthzCtxGroup]
	instName := ext[dataplane.ExtAuthzCtxInstance]
	if instName == "" {
		instName = model.DefaultInstance
	}
	c.target.inst = c.plans.snap.Instance(instName)
	if _, forged := c.req.hdr.get(dataplane.ExtAuthzAppRouteHeader); forged {
		// Only ext_authz sets it, after this check: a client sending it
		// would reach an API's app_route routes without the selection.
		return &denial{reason: ReasonAPINotFound, err: gwresp.ErrAPINotFound, cause: errForgedAppRoute}
	}
	if c.target.inst != nil && ext[dataplane.ExtAuthzCtxAppRoute] != "" {
		return c.resolveAppRoute()
	}
	apiID, envID := ext[dataplane.ExtAuthzCtxAPI], ext[dataplane.ExtAuthzCtxEnv]
	if c.target.inst == nil || apiID == "" || envID == "" {
		return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
	}
	plan, err := c.plans.plan(c.target.inst, apiID, envID)
	if err != nil {
		return &denial{reason: ReasonInternal, err: gwresp.ErrInternal, cause: err}
	}
	if plan == nil {
		return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
	}
	return c.setTarget(plan)
}

// setTarget makes plan the API the request is checked against.
func (c *call) setTarget(plan *apiPlan) *denial {
	c.target.plan, c.target.api, c.target.env, c.target.groupID = plan, plan.api, plan.env, plan.api.GroupId
	if plan.blocked != "" {
		return &denial{reason: ReasonPolicyUnavailable, err: gwresp.ErrPolicyUnavailable, cause: errors.New(plan.blocked)}
	}
	if n := len(plan.params); n <= len(c.params.buf) {
		c.params.vals = c.params.buf[:n]
	} else {
		c.params.vals = make([]pval, n)
	}
	return nil
}

func (c *call) checkProtocol() *denial {
	switch strings.ToLower(c.req.scheme) {
	case "http":
		if !c.target.plan.http {
			return deny(ReasonProtocol, protocolError("HTTPS"))
		}
	case "https":
		if !c.target.plan.https {
			return deny(ReasonProtocol, protocolError("HTTP"))
		}
	}
	return nil
}

func protocolError(supported string) gwresp.Error {
	e := gwresp.ErrProtocol
	e.Message = strings.Replace(e.Message, "{xxx}", supported, 1)
	return e
}

// matchPath matches the request path against the API's frontend path and
// records the path parameters (and, for prefix APIs, the remainder).
func (c *call) matchPath() *denial {
	rest, ok := matchSegs(c.target.plan, c.req.path, c.setPathParam)
	if !ok {
		return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
	}
	if c.target.plan.prefix {
		c.params.rest = rest
	}
	return nil
}

// matchSegs matches a request path against an API's frontend path,
// passing the path parameters to set (nil: not recorded); it returns the
// remainder of a prefix (SWA) API.
func matchSegs(plan *apiPlan, p string, set func(i int, raw string)) (string, bool) {
	if p == "" {
		p = "/"
	}
	if p[0] != '/' {
		return "", false
	}
	rest := p
	for _, seg := range plan.segs {
		if seg.greedy {
			v := strings.TrimPrefix(rest, "/")
			if seg.param >= 0 && set != nil {
				set(seg.param, v)
			}
			rest = ""
			break
		}
		if rest == "" || rest == "/" {
			return "", false
		}
		part := rest[1:]
		next := ""
		if j := strings.IndexByte(part, '/'); j >= 0 {
			part, next = part[:j], part[j:]
		}
		switch {
		case seg.isParam && part == "":
			return "", false
		case seg.isParam:
			if seg.param >= 0 && set != nil {
				set(seg.param, part)
			}
		case part != seg.literal && unescape(part) != seg.literal:
			return "", false
		}
		rest = next
	}
	switch {
	case plan.prefix:
		if rest == "/" {
			rest = ""
		}
		return rest, true
	case rest != "" && rest != "/":
		return "", false
	}
	return rest, true
}

func (c *call) setPathParam(i int, raw string) {
	c.params.vals[i] = pval{v: unescape(raw), raw: raw, ok: true}
}

// clientIP returns the real client IP per the instance's settings:
// real_ip_header_getter, else real_ip_from_xff, else the TCP peer.
func (c *call) clientIP() (netip.Addr, bool) {
	if c.client.done {
		return c.client.ip, c.client.ip.IsValid()
	}
	c.client.done = true
	cfg := c.target.inst.Config
	s := c.req.peer
	if g := cfg.GetRealIpHeaderGetter(); g.GetEnable() {
		if name, ok := strings.CutPrefix(g.GetHeaderGetter(), "header:"); ok {
			if v, ok := c.req.hdr.get(strings.ToLower(strings.TrimSpace(name))); ok {
				s, _, _ = strings.Cut(v, ",")
			}
		}
	} else if x := cfg.GetRealIpFromXff(); x.GetEnable() {
		if v, ok := c.req.hdr.get("x-forwarded-for"); ok {
			if e, ok := xffEntry(v, int(x.GetXffIndex())); ok {
				s = e
			}
		}
	}
	c.client.ip = parseIP(strings.TrimSpace(s))
	if c.client.ip.IsValid() {
		c.client.str = c.client.ip.String()
	}
	return c.client.ip, c.client.ip.IsValid()
}

// xffEntry returns entry i of an X-Forwarded-For list (i < 0 counts from
// the right, -1 being the last).
func xffEntry(list string, i int) (string, bool) {
	n := strings.Count(list, ",") + 1
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return "", false
	}
	for k := 0; ; k++ {
		e, rest, _ := strings.Cut(list, ",")
		if k == i {
			return strings.TrimSpace(e), true
		}
		list = rest
	}
}

func parseIP(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// unescape percent-decodes a path segment (invalid escapes stay as sent).
func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
