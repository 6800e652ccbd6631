package extauth

import (
	"github.com/apigw/apigw/model"
)

// pluginParams reads a plug-in's parameters (rate_limit, third_auth)
// from the request its rules are evaluated on.
type pluginParams struct {
	c    *call
	defs []model.PluginParam
}

// Param implements matchexpr.Params: header and query parameters are
// the first value (Host is the request's :authority), path the request path as sent (without the query),
// method the client's method, system a gateway system parameter.
func (p pluginParams) Param(name string) (string, bool) {
	for i := range p.defs {
		d := &p.defs[i]
		if d.Name != name {
			continue
		}
		switch d.Type {
		case model.PluginParamHeader:
			if d.Value == "host" && p.c.req.host != "" {
				// Envoy carries Host as :authority.
				return p.c.req.host, true
			}
			if vs := p.c.req.hdr.Values(d.Value); len(vs) > 0 {
				return vs[0], true
			}
			return "", false
		case model.PluginParamQuery:
			return p.c.req.queryValue(d.Value)
		case model.PluginParamPath:
			if p.c.req.path == "" {
				return "/", true
			}
			return p.c.req.path, true
		case model.PluginParamMethod:
			return p.c.req.method, true
		case model.PluginParamSystem:
			return p.c.systemValue(model.SysParamInternal, d.Value)
		}
		return "", false
	}
	return "", false
}
