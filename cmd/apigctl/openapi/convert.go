package openapi

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Extension names (docs/apig-semantics.md#openapi-extensions).
const (
	extAuthType      = "x-apigateway-auth-type"
	extAuthOpt       = "x-apigateway-auth-opt"
	extAuthorizer    = "x-apigateway-authorizer"
	extRequestType   = "x-apigateway-request-type"
	extMatchMode     = "x-apigateway-match-mode"
	extCors          = "x-apigateway-cors"
	extFgBase64      = "x-apigateway-is-send-fg-body-base64"
	extContentType   = "x-apigateway-content-type"
	extBackend       = "x-apigateway-backend"
	extPolicies      = "x-apigateway-backend-policies"
	extRatelimit     = "x-apigateway-ratelimit"
	extRatelimits    = "x-apigateway-ratelimits"
	extACL           = "x-apigateway-access-control"
	extACLs          = "x-apigateway-access-controls"
	extPlugins       = "x-apigateway-plugins"
	extResponse      = "x-apigateway-response"
	extResponses     = "x-apigateway-responses"
	extNormalSample  = "x-apigateway-result-normal-sample"
	extFailureSample = "x-apigateway-result-failure-sample"
	extPassThrough   = "x-apigateway-pass-through"
	extSample        = "x-apigateway-sample"
	extOrchestration = "x-apigateway-orchestrations"
)

const extPrefix = "x-apigateway-"

// Convert reads a document and returns the resources it describes. The
// returned problems hold warnings and, when the document is refused,
// errors.
func Convert(data []byte) (*Plan, *Problems, error) {
	doc, err := parse(data)
	if err != nil {
		return nil, nil, err
	}
	c := &converter{doc: doc, ps: &Problems{}, plan: &Plan{Version: doc.version, GroupName: doc.title, GroupRemark: doc.description},
		authorizers: map[string]string{}, responseSets: map[string]*apigwv1.GatewayResponse{}}
	c.root()
	c.securitySchemes()
	c.operations()
	c.checkUnique()
	c.validate()
	sortProblems(c.ps.Errors)
	return c.plan, c.ps, nil
}

type converter struct {
	doc  *document
	ps   *Problems
	plan *Plan
	// authorizers maps security scheme names to authorizer names.
	authorizers  map[string]string
	responseSets map[string]*apigwv1.GatewayResponse
	// nodes records the fields of the resource being converted.
	nodes Nodes
}

// known lists the extensions understood at each scope.
var known = map[string][]string{
	"root":   {extRatelimits, extACLs, extResponses, extPlugins},
	"scheme": {extAuthType, extAuthOpt, extAuthorizer},
	"op": {extRequestType, extMatchMode, extCors, extFgBase64, extContentType, extBackend, extPolicies, extRatelimit,
		extACL, extPlugins, extResponse, extResponses},
	"param": {extPassThrough, extSample, extOrchestration},
	"resp":  {extNormalSample, extFailureSample},
}

// unknownExt warns about x-apigateway-* extensions that are not understood
// at a scope (other x- extensions are left alone).
func (c *converter) unknownExt(scope, base string, ext map[string]any) {
	for _, k := range sortedKeys(ext) {
		if !strings.HasPrefix(strings.ToLower(k), extPrefix) {
			continue
		}
		ok := false
		for _, n := range known[scope] {
			if k == n {
				ok = true
			}
		}
		if !ok {
			c.ps.warnf(ptr(base, k), "unknown extension here; ignored")
		}
	}
}

func (c *converter) root() {
	if c.plan.GroupName == "" {
		c.ps.warnf("/info/title", "no title: name the group with --group")
	}
	for _, r := range c.doc.root {
		c.unknownExt("root", r.ptr, r.m)
		if v, ok := r.m[extRatelimits]; ok {
			c.ratelimits(ptr(r.ptr, extRatelimits), v)
		}
		if v, ok := r.m[extACLs]; ok {
			c.accessControls(ptr(r.ptr, extACLs), v)
		}
		if v, ok := r.m[extResponses]; ok {
			c.responses(ptr(r.ptr, extResponses), v)
		}
		if v, ok := r.m[extPlugins]; ok {
			c.pluginDefs(ptr(r.ptr, extPlugins), v)
		}
	}
}

func (c *converter) operations() {
	for _, op := range c.doc.ops {
		c.operation(op)
	}
}

var reBadName = regexp.MustCompile(`[^\p{L}\p{N}\-_./()：:、]+`)

func (c *converter) operation(op *operation) {
	c.unknownExt("op", op.ptr, op.ext)
	a := &apigwv1.Api{Name: op.id, ReqMethod: op.method, ReqUri: op.path, Remark: op.description, Tags: op.tags}
	if a.Name == "" {
		a.Name = strings.Trim(reBadName.ReplaceAllString(strings.ToLower(op.method)+"_"+strings.ReplaceAll(op.path, "/", "_"), "_"), "_")
		c.ps.warnf(op.ptr, "no operationId: the API is named %q", a.Name)
	}
	if a.Remark == "" {
		a.Remark = op.summary
	}
	item := &APIItem{Ptr: op.ptr, API: a, Fields: Nodes{}}
	c.nodes = item.Fields
	defer func() { c.nodes = nil }()
	ex := &obj{ptr: op.ptr, m: op.ext, used: map[string]bool{}, ps: c.ps}
	c.recOperation(op, ex)
	switch ex.enum([]string{extRequestType}, "public", "private") {
	case "private":
		a.Type = 2
	case "public":
		a.Type = 1
	}
	a.MatchMode = ex.enum([]string{extMatchMode}, model.MatchNormal, model.MatchPrefix)
	if b, ok := ex.boolean(extCors); ok {
		a.Cors = b
	}
	if b, ok := ex.boolean(extFgBase64); ok {
		a.IsSendFgBodyBase64 = &b
	}
	a.ContentType = ex.str(extContentType)
	a.ReqProtocol = protocol(c.ps, op.ptr, op.schemes, c.doc.schemes)
	c.security(op, a)
	c.params(op, a)
	c.samples(op, a)
	if v, ok := op.ext[extBackend]; ok {
		c.backend(ptr(op.ptr, extBackend), v, a)
	} else {
		c.ps.errorf(op.ptr, "%s is required: the backend of the API", extBackend)
	}
	if v, ok := op.ext[extPolicies]; ok {
		c.policies(ptr(op.ptr, extPolicies), v, a)
	}
	if v, ok := op.ext[extRatelimit]; ok {
		item.Throttle, item.ThrottlePtr = c.policyName(ptr(op.ptr, extRatelimit), v), ptr(op.ptr, extRatelimit)
	}
	if v, ok := op.ext[extACL]; ok {
		item.ACL, item.ACLPtr = c.policyName(ptr(op.ptr, extACL), v), ptr(op.ptr, extACL)
	}
	if v, ok := op.ext[extPlugins]; ok {
		c.pluginRefs(ptr(op.ptr, extPlugins), v, item)
	}
	if v, ok := op.ext[extResponses]; ok {
		c.responses(ptr(op.ptr, extResponses), v)
	}
	if v, ok := op.ext[extResponse]; ok {
		a.ResponseId = c.policyName(ptr(op.ptr, extResponse), v)
	}
	c.plan.APIs = append(c.plan.APIs, item)
}

func (c *converter) policyName(p string, v any) string {
	s, ok := v.(string)
	if !ok || s == "" {
		c.ps.errorf(p, "must be a name (got %s)", typeName(v))
		return ""
	}
	return s
}

// protocol maps schemes (http, https) to HTTP, HTTPS or BOTH.
func protocol(ps *Problems, p string, schemes, fallback []string) string {
	if len(schemes) == 0 {
		schemes = fallback
	}
	var http, https bool
	for _, s := range schemes {
		switch strings.ToLower(s) {
		case "http", "ws":
			http = true
		case "https", "wss":
			https = true
		default:
			ps.warnf(p, "scheme %q is not supported; ignored", s)
		}
	}
	switch {
	case http && https:
		return model.ProtoBoth
	case http:
		return model.ProtoHTTP
	}
	return model.ProtoHTTPS
}

func (c *converter) params(op *operation, a *apigwv1.Api) {
	for _, p := range op.params {
		c.unknownExt("param", p.ptr, p.ext)
		loc := strings.ToUpper(p.in)
		switch loc {
		case model.LocPath, model.LocQuery, model.LocHeader, model.LocCookie:
		case "BODY", "FORMDATA":
			c.ps.warnf(p.ptr, "%s parameters are not supported; the body is forwarded as is", p.in)
			continue
		default:
			c.ps.errorf(ptr(p.ptr, "in"), "must be path, query, header or cookie (got %q)", p.in)
			continue
		}
		if loc == model.LocHeader && (strings.EqualFold(p.name, "Authorization") || strings.EqualFold(p.name, "X-Auth-Token")) {
			c.ps.warnf(p.ptr, "%s documents the authentication header; not imported as a parameter", p.name)
			continue
		}
		rp := &apigwv1.ReqParam{Name: p.name, Location: loc, Remark: p.description, Required: model.No}
		c.recParam(fmt.Sprintf("req_params[%d]", len(a.ReqParams)), p)
		if p.required || loc == model.LocPath {
			rp.Required = model.Yes
		}
		switch strings.ToLower(p.typ) {
		case "integer", "number", "long", "float", "double":
			rp.Type = model.TypeNumber
		case "string", "", "boolean":
			rp.Type = model.TypeString
		default:
			c.ps.warnf(ptr(p.ptr, "type"), "%s parameters are not supported; imported as STRING without validation", p.typ)
			rp.Type = model.TypeString
		}
		rp.DefaultValue = scalar(p.def)
		var enum []string
		for _, e := range p.enum {
			if s := scalar(e); s != "" {
				enum = append(enum, s)
			}
		}
		rp.Enumerations = strings.Join(enum, ",")
		if rp.Type == model.TypeNumber {
			rp.MinNum, rp.MaxNum = c.bound(ptr(p.bounds, "minimum"), p.min), c.bound(ptr(p.bounds, "maximum"), p.max)
		} else {
			if p.minLen > 0 {
				rp.MinSize = c.length(ptr(p.bounds, "minLength"), p.minLen)
			}
			if p.maxLen != nil && *p.maxLen > 0 {
				rp.MaxSize = c.length(ptr(p.bounds, "maxLength"), *p.maxLen)
			}
		}
		rp.ValidEnable = model.No
		if rp.Enumerations != "" || rp.MinNum != nil || rp.MaxNum != nil || rp.MinSize != nil || rp.MaxSize != nil {
			rp.ValidEnable = model.Yes
		}
		ex := &obj{ptr: p.ptr, m: p.ext, used: map[string]bool{}, ps: c.ps}
		switch ex.enum([]string{extPassThrough}, "always", "never") {
		case "always":
			rp.PassThrough = model.Yes
		case "never":
			rp.PassThrough = model.No
		}
		rp.SampleValue = ex.str(extSample)
		if rp.SampleValue == "" {
			rp.SampleValue = scalar(p.example)
		}
		rp.Orchestrations = ex.strings(extOrchestration)
		a.ReqParams = append(a.ReqParams, rp)
	}
}

// scalar renders a default/enum/example value; "" for none.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// bound converts the minimum or maximum of a number parameter. apigw's
// bounds are integers, as APIG's: a decimal or out-of-range value is
// refused at its node rather than truncated. The 0 placeholders of APIG
// exports are unset.
func (c *converter) bound(at string, f *float64) *int32 {
	switch {
	case f == nil || *f == 0:
		return nil
	case *f != math.Trunc(*f) || *f < math.MinInt32 || *f > math.MaxInt32:
		c.ps.errorf(at, "must be an integer between %d and %d: the bounds of NUMBER parameters are integers (got %v)", math.MinInt32, math.MaxInt32, *f)
		return nil
	}
	return int32p(int64(*f))
}

// length converts minLength or maxLength, refusing what does not fit
// (rather than wrapping it).
func (c *converter) length(at string, n uint64) *int32 {
	if n > math.MaxInt32 {
		c.ps.errorf(at, "must be at most %d (got %d)", math.MaxInt32, n)
		return nil
	}
	return int32p(int64(n))
}

func int32p(v int64) *int32 {
	i := int32(v)
	return &i
}

func (c *converter) samples(op *operation, a *apigwv1.Api) {
	for _, r := range op.responses {
		c.unknownExt("resp", r.ptr, r.m)
		ex := &obj{ptr: r.ptr, m: r.m, used: map[string]bool{}, ps: c.ps}
		for _, f := range []struct {
			key string
			dst *string
		}{{extNormalSample, &a.ResultNormalSample}, {extFailureSample, &a.ResultFailureSample}} {
			switch s := ex.str(f.key); {
			case s == "" || s == *f.dst:
			case *f.dst == "":
				*f.dst = s
				c.rec(map[string]string{extNormalSample: "result_normal_sample", extFailureSample: "result_failure_sample"}[f.key], ptr(r.ptr, f.key))
			default:
				c.ps.warnf(ptr(r.ptr, f.key), "another sample was read first; this one is ignored")
			}
		}
	}
}

// checkUnique refuses two operations with the same name, or the same
// method, path and match mode (APIG would import only the first).
func (c *converter) checkUnique() {
	names := map[string]string{}
	keys := map[string]string{}
	for _, it := range c.plan.APIs {
		a := it.API
		if p, dup := names[a.Name]; dup && a.Name != "" {
			c.ps.errorf(it.Ptr, "operationId %q is already used by %s", a.Name, p)
		}
		names[a.Name] = it.Ptr
		mode := a.MatchMode
		if mode == "" {
			mode = model.MatchNormal
		}
		k := a.ReqMethod + " " + a.ReqUri + " " + mode
		if p, dup := keys[k]; dup {
			c.ps.errorf(it.Ptr, "%s %s (%s) is already defined by %s", a.ReqMethod, a.ReqUri, mode, p)
		}
		keys[k] = it.Ptr
	}
}

// ResponseSetNames lists the gateway-response sets the plan defines.
func (p *Plan) ResponseSetNames() []string {
	var out []string
	for _, r := range p.Responses {
		out = append(out, r.Msg.Name)
	}
	sort.Strings(out)
	return out
}
