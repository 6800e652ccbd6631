package model

import (
	"slices"
	"strings"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Parameters and rules shared by the plug-ins whose rules select
// requests with an expression (rate_limit, third_auth): a parameter names
// a request value, a rule's match_regex reads parameters
// (model/matchexpr).

// Parameter types.
const (
	PluginParamHeader = "header"
	PluginParamQuery  = "query"
	PluginParamPath   = "path"
	PluginParamMethod = "method"
	PluginParamSystem = "system"
)

// MaxPluginParams is how many parameters one plug-in defines.
const MaxPluginParams = 50

// pluginSystemParams are the system parameters a parameter of type system
// may read: those ext_authz knows when it evaluates the rules.
var pluginSystemParams = []string{"sourceIp", "stage", "apiId", "apiName", "appId", "appName", "requestId", "serverAddr", "serverName"}

// PluginSystemParams returns the system parameters a parameter may read,
// in a new slice.
func PluginSystemParams() []string { return slices.Clone(pluginSystemParams) }

var rePluginParamName = runeRange(`^[A-Za-z][A-Za-z0-9_.\-]*$`, 1, 32)

// PluginParam is a parameter of the rules' expressions, prepared.
type PluginParam struct {
	Name, Type string
	// Value is the header (lower case), query parameter or system
	// parameter read; empty for path and method.
	Value string
}

// compilePluginParams prepares validated parameters.
func compilePluginParams(ps []*apigwv1.PluginCommonParameter) []PluginParam {
	var out []PluginParam
	for _, pp := range ps {
		q := PluginParam{Name: pp.Name, Type: strings.ToLower(pp.Type), Value: pp.Value}
		switch q.Type {
		case PluginParamHeader:
			q.Value = strings.ToLower(strings.TrimSpace(pp.Value))
		case PluginParamPath, PluginParamMethod:
			q.Value = ""
		}
		out = append(out, q)
	}
	return out
}

// validatePluginParams checks the parameters (field "parameters") and
// returns their names.
func validatePluginParams(c checker, ps []*apigwv1.PluginCommonParameter) map[string]bool {
	names := map[string]bool{}
	if len(ps) > MaxPluginParams {
		c.add("parameters", "at most %d parameters (got %d)", MaxPluginParams, len(ps))
	}
	for i, p := range ps {
		pc := c.idx("parameters", i)
		if pc.required("name", p.Name) {
			if !rePluginParamName.MatchString(p.Name) {
				pc.add("name", "must be 1-32 letters, digits, _, - or ., starting with a letter")
			}
			if names[p.Name] {
				pc.add("name", "%q is defined twice", p.Name)
			}
			names[p.Name] = true
		}
		if !pc.required("type", p.Type) {
			continue
		}
		switch typ := strings.ToLower(p.Type); typ {
		case PluginParamHeader:
			if pc.required("value", p.Value) && !ValidHeaderName(strings.TrimSpace(p.Value)) {
				pc.add("value", "%q is not a header name", p.Value)
			}
		case PluginParamQuery:
			if pc.required("value", p.Value) {
				pc.maxLen("value", p.Value, 255)
				checkWire(pc, "value", p.Value)
			}
		case PluginParamPath:
			if p.Value != "" && p.Value != "reqPath" {
				pc.add("value", "a path parameter reads the request path: value must be reqPath or empty (got %q)", p.Value)
			}
		case PluginParamMethod:
			if p.Value != "" && p.Value != "method" {
				pc.add("value", "a method parameter reads the request method: value must be method or empty (got %q)", p.Value)
			}
		case PluginParamSystem:
			if pc.required("value", p.Value) && !slices.Contains(pluginSystemParams, p.Value) {
				pc.add("value", "must be one of the system parameters %s (got %q)", strings.Join(pluginSystemParams, ", "), p.Value)
			}
		default:
			pc.oneOf("type", typ, PluginParamHeader, PluginParamQuery, PluginParamPath, PluginParamMethod, PluginParamSystem)
		}
	}
	return names
}
