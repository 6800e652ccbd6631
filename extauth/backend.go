package extauth

import (
	"errors"
	"strings"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

// HandleTimeFormat is the format of the system parameter handleTime (APIG
// does not document one; ISO 8601 UTC, see
// docs/apig-semantics.md#system-parameters).
const HandleTimeFormat = "2006-01-02T15:04:05Z"

var errForgedMethodHeader = errors.New("the request carries the internal header " + dataplane.ExtAuthzMethodHeader)

// mapBackend turns the selected backend's parameters into mutations of the
// backend request (docs/apig-semantics.md#backend-parameters): headers and
// query parameters to set, the declared parameters with pass_through=never to
// strip, the policy selection header, and the backend path (+ query) for the
// route's path_rewrite.
func (c *call) mapBackend() *denial {
	b := c.backend.plan
	if _, forged := c.req.hdr.get(dataplane.ExtAuthzMethodHeader); forged {
		// Only ext_authz sets it, after this check: a client sending it
		// would pick a backend route of its own choosing.
		return &denial{reason: ReasonAPINotFound, err: gwresp.ErrAPINotFound, cause: errForgedMethodHeader}
	}
	var pathBuf [4]kv
	pathVals := pathBuf[:0]
	for i := range b.params {
		bp := &b.params[i]
		v, ok := c.backendValue(bp)
		if !ok {
			continue
		}
		switch bp.loc {
		case model.LocHeader:
			if !validHeaderValue(v) {
				if bp.origin == model.OriginRequest {
					return denyf(ReasonBadParameter, gwresp.ErrParameters, "the value of backend header parameter "+bp.name+" holds a control character")
				}
				continue // an authorizer's context value: never put on the wire
			}
			if v != "" {
				c.mut.setHeader(bp.name, v)
			}
		case model.LocQuery:
			c.mut.setQueryParam(bp.name, v)
		case model.LocPath:
			if hasDotSegment(v) {
				return denyf(ReasonBadParameter, gwresp.ErrParameters, "the value of backend path parameter "+bp.name+" is a . or .. segment")
			}
			pathVals = append(pathVals, kv{bp.name, v})
		}
	}
	for i := range c.target.plan.params {
		pp := &c.target.plan.params[i]
		if !pp.drop || !c.params.vals[i].ok || c.params.vals[i].defaulted {
			continue
		}
		switch pp.loc {
		case model.LocHeader:
			c.mut.removeHeader(pp.hname)
		case model.LocQuery:
			c.mut.removeQueryParam(pp.p.Name)
		}
	}
	if b.name != "" {
		c.mut.setHeader(dataplane.ExtAuthzPolicyHeader, b.name)
	} else if _, ok := c.req.hdr.get(dataplane.ExtAuthzPolicyHeader); ok {
		c.mut.removeHeader(dataplane.ExtAuthzPolicyHeader)
	}
	if b.http && b.method != "" && b.method != c.req.method {
		// The backend is called with its own method; the marker makes the
		// route matched again after this check the backend's variant
		// (docs/apig-semantics.md#backend-method).
		c.mut.setHeader(":method", b.method)
		c.mut.setHeader(dataplane.ExtAuthzMethodHeader, dataplane.ExtAuthzMethodRoute(c.target.api.GetId(), c.target.env.GetId(), b.name))
	}
	// A passthrough downgrade's headers, over the backend parameters.
	for _, h := range c.backend.passthrough {
		c.mut.setHeader(strings.ToLower(h.GetKey()), h.GetValue())
	}
	if b.http {
		if c.params.rest != "" && hasDotSegment(c.params.rest) {
			return denyf(ReasonBadParameter, gwresp.ErrParameters, "the request path holds a . or .. segment")
		}
		c.backend.path = c.buildBackendPath(b.uri, pathVals)
		c.backend.hasPath = true
	}
	return nil
}

// backendValue returns a backend parameter's value, encoded for its
// location; false when its source is absent.
func (c *call) backendValue(bp *backendParamPlan) (string, bool) {
	switch bp.origin {
	case model.OriginConstant:
		return bp.constant, true
	case model.OriginRequest:
		if bp.src < 0 || !c.params.vals[bp.src].ok {
			return "", false
		}
		v := c.params.vals[bp.src]
		switch bp.loc {
		case model.LocPath:
			if c.target.plan.params[bp.src].loc == model.LocPath && !v.defaulted {
				return v.raw, true
			}
			return encodePathValue(v.v), true
		case model.LocQuery:
			return encodeQueryValue(v.v), true
		}
		return v.v, true
	case model.OriginSystem:
		v, ok := c.systemValue(bp.sysNS, bp.sysKey)
		if !ok {
			return "", false
		}
		switch bp.loc {
		case model.LocPath:
			return encodePathValue(v), true
		case model.LocQuery:
			return encodeQueryValue(v), true
		}
		return v, true
	}
	return "", false
}

// systemValue returns a gateway system parameter
// (docs/apig-semantics.md#system-parameters).
func (c *call) systemValue(ns, key string) (string, bool) {
	switch ns {
	case model.SysParamFrontend:
		v, ok := c.caller.frontCtx[key]
		return v, ok
	case model.SysParamBackend:
		v, ok := c.backend.authzCtx[key]
		return v, ok
	}
	switch key {
	case "sourceIp":
		c.clientIP()
		return c.client.str, c.client.str != ""
	case "stage":
		return c.target.env.GetName(), true
	case "apiId":
		return c.target.plan.pub.ApiId, true
	case "apiName":
		return c.target.api.Name, true
	case "appId":
		if c.caller.app != nil {
			return c.caller.app.Id, true
		}
	case "appName":
		if c.caller.app != nil {
			return c.caller.app.Name, true
		}
	case "requestId":
		return c.req.requestID, c.req.requestID != ""
	case "serverAddr":
		return c.req.local, c.req.local != ""
	case "serverName":
		return c.s.cfg.serverName, c.s.cfg.serverName != ""
	case "handleTime":
		return c.now.UTC().Format(HandleTimeFormat), true
	}
	return "", false
}

// buildBackendPath fills the backend path's {name} placeholders, appends
// the unmatched remainder of a prefix (SWA) API and the final query: the
// client's parameters in order minus those removed or overwritten, then
// those set.
func (c *call) buildBackendPath(uri string, vals []kv) string {
	var b strings.Builder
	n := len(uri) + len(c.params.rest) + 1
	for _, v := range vals {
		n += len(v.v)
	}
	b.Grow(n)
	if uri == "" || uri[0] != '/' {
		b.WriteByte('/')
	}
	for uri != "" {
		i := strings.IndexByte(uri, '{')
		j := -1
		if i >= 0 {
			j = strings.IndexByte(uri[i:], '}')
		}
		if j < 0 {
			b.WriteString(uri)
			break
		}
		j += i
		b.WriteString(uri[:i])
		name := uri[i+1 : j]
		for _, v := range vals {
			if v.k == name {
				b.WriteString(v.v)
				break
			}
		}
		uri = uri[j+1:]
	}
	if c.params.rest != "" {
		s := b.String()
		trimmed := strings.TrimRight(s, "/")
		b.Reset()
		b.Grow(n)
		b.WriteString(trimmed)
		b.WriteString(c.params.rest)
	}
	return b.String()
}

// validHeaderValue reports whether v may be a header value: no control
// character but horizontal tab (RFC 9110 field-value).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
