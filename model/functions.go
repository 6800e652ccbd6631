package model

import (
	"net/url"
	"strings"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// MaxFunctions is the most entries an instance's function registry holds.
const MaxFunctions = 200

// validateFunctionRegistry checks an instance's function registry: URNs,
// each once; http(s) URLs; timeouts in range.
func validateFunctionRegistry(c checker, fns []*apigwv1.FunctionTarget) {
	if len(fns) > MaxFunctions {
		c.add("functions", "at most %d functions (got %d)", MaxFunctions, len(fns))
	}
	seen := map[string]bool{}
	for i, f := range fns {
		fc := c.idx("functions", i)
		if fc.required("urn", f.Urn) {
			if !strings.HasPrefix(f.Urn, "urn:") {
				fc.add("urn", "must be a function URN (urn:fss:...), a version of one (<urn>:<version>) or an alias URN")
			}
			if seen[f.Urn] {
				fc.add("urn", "%q is declared twice", f.Urn)
			}
			seen[f.Urn] = true
		}
		fc.maxLen("urn", f.Urn, 255)
		if fc.required("url", f.Url) {
			if u, err := url.Parse(f.Url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				fc.add("url", "must be an http(s) URL")
			}
		}
		if f.Timeout != 0 {
			fc.rangeInt("timeout", int64(f.Timeout), 1, AbsoluteMaxTimeout)
		}
		if strings.ContainsAny(f.Authorization, "\r\n") {
			fc.add("authorization", "must be a single header value")
		}
	}
}

// IsFunctionURN says whether an authorizer_uri names a function (to be
// resolved in the registry) rather than an http(s) URL.
func IsFunctionURN(s string) bool { return strings.HasPrefix(s, "urn:") }

// checkAuthorizerFunction refuses a function authorizer whose function
// the instance's registry does not map.
func (in *Instance) checkAuthorizerFunction(c checker, a *apigwv1.Authorizer) {
	if IsFunctionURN(a.AuthorizerUri) && ResolveFunction(in.Config, a.AuthorizerUri, a.AuthorizerVersion, a.AuthorizerAliasUri) == nil {
		c.add("authorizer_uri", "function %s is not in the instance's function registry (instance config.functions: %s)", a.AuthorizerUri, strings.Join(FunctionKeys(a.AuthorizerUri, a.AuthorizerVersion, a.AuthorizerAliasUri), " or "))
	}
}

// FunctionKeys are the registry URNs that serve a function backend, best
// first: the alias URN when set (an alias wins over a version), else the
// function URN with ":<version>" when a version is set; then the function
// URN itself.
func FunctionKeys(urn, version, alias string) []string {
	switch {
	case alias != "":
		return []string{alias, urn}
	case version != "" && version != "latest":
		return []string{urn + ":" + version, urn}
	}
	return []string{urn}
}

// ResolveFunction returns the registry entry that serves a function
// backend, or nil.
func ResolveFunction(cfg *apigwv1.InstanceConfig, urn, version, alias string) *apigwv1.FunctionTarget {
	for _, k := range FunctionKeys(urn, version, alias) {
		for _, f := range cfg.GetFunctions() {
			if f.Urn == k {
				return f
			}
		}
	}
	return nil
}

// calledFunction is a function a FUNCTION backend of an API calls: the
// default backend's (field func_info) or a FUNCTION policy backend's
// (field policy_functions[i]).
type calledFunction struct {
	field               string
	urn, version, alias string
}

// calledFunctions lists the functions an API's FUNCTION backends call.
func calledFunctions(a *apigwv1.Api) []calledFunction {
	if a.BackendType != BackendFunction {
		return nil
	}
	var out []calledFunction
	if f := a.GetFuncInfo(); f != nil {
		out = append(out, calledFunction{"func_info", f.FunctionUrn, f.Version, f.AliasUrn})
	}
	for i, p := range a.PolicyFunctions {
		out = append(out, calledFunction{index("policy_functions", i), p.FunctionUrn, p.Version, p.AliasUrn})
	}
	return out
}

// checkFunctions refuses a FUNCTION backend (default or policy) whose
// function the instance's registry does not map onto an endpoint.
func (in *Instance) checkFunctions(c checker, prefix string, a *apigwv1.Api) {
	for _, f := range calledFunctions(a) {
		if ResolveFunction(in.Config, f.urn, f.version, f.alias) == nil {
			c.add(join(prefix, f.field+".function_urn"), "function %s is not in the instance's function registry (instance config.functions: %s)", f.urn, strings.Join(FunctionKeys(f.urn, f.version, f.alias), " or "))
		}
	}
}

// checkFunctionsUsed refuses an instance definition whose function
// registry no longer serves a function an API or a served publication
// calls.
func (in *Instance) checkFunctionsUsed(c checker, def *apigwv1.Instance) {
	in.breakerFunctionsUsed(c, def)
	for _, o := range in.Objects(KindAuthorizer) {
		a := o.(*apigwv1.Authorizer)
		if IsFunctionURN(a.AuthorizerUri) && ResolveFunction(def.GetConfig(), a.AuthorizerUri, a.AuthorizerVersion, a.AuthorizerAliasUri) == nil {
			c.add("config.functions", "must serve function %s: authorizer %s (%s) calls it", a.AuthorizerUri, a.Id, a.Name)
		}
	}
	for _, kind := range []string{KindAPI, KindPublication} {
		for _, o := range in.Objects(kind) {
			a, ok := o.(*apigwv1.Api)
			if p, isPub := o.(*apigwv1.Publication); isPub {
				a, ok = p.Api, p.Api != nil && in.Served(p.ApiId, p.EnvId) == p
			}
			if !ok {
				continue
			}
			for _, f := range calledFunctions(a) {
				if ResolveFunction(def.GetConfig(), f.urn, f.version, f.alias) == nil {
					c.add("config.functions", "must serve function %s: %s %s (%s) calls it (%s)", f.urn, kind, IDOf(o), a.Name, f.field)
				}
			}
		}
	}
}
