package extauth

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// call is one Check: the request, what was resolved and decided so far,
// and the mutations for the backend request.
type call struct {
	s     *Server
	ctx   context.Context
	now   time.Time // injected clock
	start time.Time // wall clock, for latency
	cr    *authv3.CheckRequest
	req   request
	plans *plans

	inst    *model.Instance
	groupID string
	env     *apigwv1.Environment
	plan    *apiPlan
	api     *apigwv1.Api

	ip        netip.Addr
	ipStr     string
	ipDone    bool
	vals      []pval
	valsBuf   [4]pval
	rest      string // SWA remainder of the path
	app       *apigwv1.App
	account   string
	accName   string
	iamAuth   bool
	frontCtx  map[string]string
	backCtx   map[string]string
	backend   *backendPlan
	azCached  bool
	debug     bool
	allowed   bool
	reason    Reason
	denial    *denial
	setHdr    []kv
	rmHdr     []string
	setQuery  []kv
	rmQuery   []string
	backPath  string
	mutBuf    [6]kv
	rmBuf     [2]string
	setQBuf   [2]kv
	rmQBuf    [2]string
	hasBePath bool
}

type kv struct{ k, v string }

// pval is the value of a declared request parameter.
type pval struct {
	v, raw    string // decoded value; raw is the path segment(s) as sent
	ok        bool   // present in the request or filled by its default
	defaulted bool
}

// run performs the checks in APIG's order (spec §8): API, protocol, IP
// ACL, authentication (and two-factor), credential authorization and ACL,
// account ACL, parameters, policy backend, backend authorizer, backend
// parameters.
func (c *call) run() *denial {
	steps := [...]func() *denial{
		c.resolve, c.checkProtocol, c.matchPath, c.checkIPACLs, c.authenticate,
		c.checkAccountACLs, c.checkParams, c.selectBackend, c.backendAuthorizer, c.mapBackend,
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
	c.groupID = ext[dataplane.ExtAuthzCtxGroup]
	instName := ext[dataplane.ExtAuthzCtxInstance]
	if instName == "" {
		instName = model.DefaultInstance
	}
	c.inst = c.plans.snap.Instance(instName)
	apiID, envID := ext[dataplane.ExtAuthzCtxAPI], ext[dataplane.ExtAuthzCtxEnv]
	if c.inst == nil || apiID == "" || envID == "" {
		return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
	}
	plan, err := c.plans.plan(c.inst, apiID, envID)
	if err != nil {
		return &denial{reason: ReasonInternal, err: gwresp.ErrInternal, cause: err}
	}
	if plan == nil {
		return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
	}
	c.plan, c.api, c.env, c.groupID = plan, plan.api, plan.env, plan.api.GroupId
	if plan.blocked != "" {
		return &denial{reason: ReasonPolicyUnavailable, err: gwresp.ErrPolicyUnavailable, cause: errors.New(plan.blocked)}
	}
	if n := len(plan.params); n <= len(c.valsBuf) {
		c.vals = c.valsBuf[:n]
	} else {
		c.vals = make([]pval, n)
	}
	return nil
}

func (c *call) checkProtocol() *denial {
	switch strings.ToLower(c.req.scheme) {
	case "http":
		if !c.plan.http {
			return deny(ReasonProtocol, protocolError("HTTPS"))
		}
	case "https":
		if !c.plan.https {
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
	p := c.req.path
	if p == "" {
		p = "/"
	}
	if p[0] != '/' {
		return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
	}
	rest := p
	for _, seg := range c.plan.segs {
		if seg.greedy {
			v := strings.TrimPrefix(rest, "/")
			if seg.param >= 0 {
				c.setPathParam(seg.param, v)
			}
			rest = ""
			break
		}
		if rest == "" || rest == "/" {
			return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
		}
		part := rest[1:]
		next := ""
		if j := strings.IndexByte(part, '/'); j >= 0 {
			part, next = part[:j], part[j:]
		}
		switch {
		case seg.isParam && part == "":
			return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
		case seg.isParam:
			if seg.param >= 0 {
				c.setPathParam(seg.param, part)
			}
		case part != seg.literal && unescape(part) != seg.literal:
			return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
		}
		rest = next
	}
	switch {
	case c.plan.prefix:
		if rest == "/" {
			rest = ""
		}
		c.rest = rest
	case rest != "" && rest != "/":
		return deny(ReasonAPINotFound, gwresp.ErrAPINotFound)
	}
	return nil
}

func (c *call) setPathParam(i int, raw string) {
	c.vals[i] = pval{v: unescape(raw), raw: raw, ok: true}
}

// clientIP returns the real client IP per the instance's settings:
// real_ip_header_getter, else real_ip_from_xff, else the TCP peer.
func (c *call) clientIP() (netip.Addr, bool) {
	if c.ipDone {
		return c.ip, c.ip.IsValid()
	}
	c.ipDone = true
	cfg := c.inst.Config
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
	c.ip = parseIP(strings.TrimSpace(s))
	if c.ip.IsValid() {
		c.ipStr = c.ip.String()
	}
	return c.ip, c.ip.IsValid()
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
