package extauth

import (
	"errors"
	"strings"

	"github.com/apigw/apigw/extauth/authorizer"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// frontAuthorizer runs the API's FRONTEND custom authorizer; its context
// becomes $context.authorizer.frontend.*.
func (c *call) frontAuthorizer() *denial {
	ctx, d := c.runAuthorizer(c.target.api.AuthorizerId)
	c.caller.frontCtx = ctx
	return d
}

// backendAuthorizer runs the selected backend's BACKEND authorizer; its
// context becomes $context.authorizer.backend.*.
func (c *call) backendAuthorizer() *denial {
	if c.backend.plan.authorizerID == "" {
		return nil
	}
	ctx, d := c.runAuthorizer(c.backend.plan.authorizerID)
	c.backend.authzCtx = ctx
	return d
}

func (c *call) runAuthorizer(id string) (map[string]string, *denial) {
	def := c.target.inst.Authorizer(id)
	if def == nil {
		return nil, &denial{reason: ReasonAuthorizerFailed, err: gwresp.ErrAuthorizerConf, cause: errors.New("authorizer " + id + " does not exist")}
	}
	spec, err := loadOrCompile(&c.plans.authz, def, func() (*authorizer.Spec, error) { return compileAuthorizer(c.target.inst, def) })
	if err != nil {
		return nil, &denial{reason: ReasonAuthorizerFailed, err: gwresp.ErrAuthorizerConf, cause: err}
	}
	res, err := c.s.authz.Authorize(c.ctx, spec, &c.req, func() *authorizer.Event { return c.authorizerEvent(def) })
	m := c.s.metrics
	var ie *authorizer.IdentityError
	switch {
	case errors.As(err, &ie):
		return nil, denyf(ReasonIdentityMissing, gwresp.ErrAuthorizerIdent, ie.Error())
	case err != nil:
		m.azError.Inc()
		return nil, &denial{reason: ReasonAuthorizerFailed, err: gwresp.ErrAuthorizerConf, cause: err}
	case res.Cached:
		m.azHit.Inc()
		c.decision.authzCached = true
	case res.Downgraded:
		m.azDowngraded.Inc()
	default:
		m.azCall.Inc()
	}
	if !res.Allow {
		return res.Context, deny(ReasonAuthorizerDenied, gwresp.ErrAuthorizerDenied)
	}
	return res.Context, nil
}

// authorizerEvent builds the event POSTed to an authorizer (only on a
// cache miss).
func (c *call) authorizerEvent(def *apigwv1.Authorizer) *authorizer.Event {
	ev := &authorizer.Event{
		HTTPMethod:            c.req.method,
		Path:                  c.req.path,
		Headers:               map[string]string{},
		QueryStringParameters: map[string]string{},
		PathParameters:        map[string]string{},
	}
	c.req.hdr.each(func(k, v string) {
		if !strings.HasPrefix(k, ":") {
			ev.Headers[k] = v
		}
	})
	if _, ok := ev.Headers["host"]; !ok && c.req.host != "" {
		ev.Headers["host"] = c.req.host
	}
	for _, q := range c.req.params() {
		if _, seen := ev.QueryStringParameters[q.key]; !seen {
			ev.QueryStringParameters[q.key] = q.val
		}
	}
	for i, pp := range c.target.plan.params {
		if pp.loc == model.LocPath && c.params.vals[i].ok {
			ev.PathParameters[pp.p.Name] = c.params.vals[i].v
		}
	}
	c.clientIP() // fills c.client.str
	ev.RequestContext = authorizer.RequestContext{
		APIID: c.target.plan.pub.ApiId, APIName: c.target.api.Name, Stage: c.target.env.GetName(), RequestID: c.req.requestID,
		SourceIP: c.client.str, AccountID: c.caller.account,
	}
	if c.caller.app != nil {
		ev.RequestContext.AppID = c.caller.app.Id
	}
	if def.GetType() == model.AuthorizerBackend && len(c.caller.frontCtx) > 0 {
		ev.RequestContext.Authorizer = c.caller.frontCtx
	}
	if def.GetNeedBody() {
		ev.SetBody(c.req.body, c.target.api.IsSendFgBodyBase64 != nil && !*c.target.api.IsSendFgBodyBase64)
	}
	return ev
}
