package extauth

import (
	"errors"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

// checkBreaker applies an API's breaker plug-in (docs/plugins.md#breaker):
// it evaluates the downgrade rules (the matched one goes to the metadata,
// for the access log) and, when that breaker is open, answers with the
// mock downgrade or 503 (the group's DEFAULT_5XX response), selects the
// policy backend of an http, http_vpc or func downgrade, or passes the
// request to the API's backend with a passthrough downgrade's headers.
// The breakers' states come from the access-log stream (package breaker):
// no route changes when they open or close.
func (c *call) checkBreaker() *denial {
	b := c.s.cfg.breakers
	if b == nil || !c.target.plan.breaker {
		return nil
	}
	d := b.Decide(c.plans.snap, c.target.inst.Name, c.target.plan.pub.ApiId, c.target.plan.pub.EnvId, c)
	c.backend.breakerRule = d.Rule
	if !d.Open {
		return nil
	}
	if d.Passthrough != nil {
		// A passthrough downgrade: the request goes to the API's own
		// backend with the downgrade's headers (mapBackend adds them);
		// it is marked downgraded, so its result does not feed the
		// breaker.
		c.backend.passthrough, c.backend.downgraded = d.Passthrough, true
		return nil
	}
	if d.Policy != "" {
		// An http, http_vpc or func downgrade: the request goes to the
		// downgrade backend, a policy backend without conditions whose
		// route matches the selection header (mapBackend sets it).
		for i := range c.target.plan.policies {
			if pp := &c.target.plan.policies[i]; pp.name == d.Policy {
				c.backend.plan, c.backend.downgraded = &pp.backendPlan, true
				return nil
			}
		}
		return &denial{reason: ReasonInternal, err: gwresp.ErrInternal, cause: errors.New("breaker downgrade " + d.Policy + " has no compiled backend")}
	}
	return &denial{reason: ReasonBreakerOpen, err: gwresp.ErrBreakerOpen, mock: d.Mock}
}

// Value is a request value a downgrade rule's parameter names
// (breaker.Request): the first value of a header or query parameter, the
// path, the method or a system parameter.
func (c *call) Value(typ, value string) (string, bool) {
	switch typ {
	case model.BreakerParamHeader:
		v, ok := c.req.hdr.get(strings.ToLower(value))
		if i := strings.IndexByte(v, ','); i >= 0 {
			v = v[:i]
		}
		return v, ok
	case model.BreakerParamQuery:
		return c.req.queryValue(value)
	case model.BreakerParamPath:
		return unescape(c.req.path), true
	case model.BreakerParamMethod:
		return c.req.method, true
	case model.BreakerParamSystem:
		k, _ := model.BreakerSystemParam(value)
		return c.systemValue(model.SysParamInternal, k)
	}
	return "", false
}

// mockResponse is an open breaker's mock downgrade: its status (200 by
// default), headers and body.
func (c *call) mockResponse(d *denial) *authv3.CheckResponse {
	m := d.mock
	status := m.GetStatusCode()
	if status == 0 {
		status = 200
	}
	hdrs := make([]*corev3.HeaderValueOption, 0, len(m.GetHeaders())+1)
	for _, h := range m.GetHeaders() {
		hdrs = append(hdrs, setHeader(h.GetKey(), h.GetValue()))
	}
	if c.decision.debug {
		hdrs = append(hdrs, setHeader(hdrDebugReason, string(d.reason)))
	}
	return &authv3.CheckResponse{
		// A denial for Envoy (it sends this answer instead of calling
		// the backend), whatever the mock's status.
		Status: &rpcstatus.Status{Code: int32(grpcCode(503)), Message: d.err.Code + " downgrade " + strconv.Itoa(int(status))},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode(status)},
			Headers: hdrs,
			Body:    m.GetResultContent(),
		}},
		DynamicMetadata: c.metadata(d),
	}
}
