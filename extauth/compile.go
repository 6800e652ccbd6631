package extauth

import (
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/apigw/apigw/extauth/authorizer"
	"github.com/apigw/apigw/extauth/orch"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// apiPlan is a publication prepared for checks.
type apiPlan struct {
	pub *apigwv1.Publication
	api *apigwv1.Api
	env *apigwv1.Environment
	// breaker: a breaker plug-in is bound (checkBreaker asks the
	// breakers only then).
	breaker bool
	// acls are the ACL policies bound to (API, environment); authorized
	// the apps authorized for it.
	acls       []*apigwv1.Acl
	authorized map[string]bool
	segs       []segPlan
	prefix     bool // SWA
	params     []paramPlan
	// orch maps a parameter through its orchestration rules (nil: none).
	orch *orchPlan
	// def is the default backend; policies are tried in order.
	def      backendPlan
	policies []policyPlan
	http     bool // HTTP accepted
	https    bool // HTTPS accepted
	// Metadata values shared by every response of this API.
	apiIDValue, envIDValue *structpb.Value
	debugAPI               string
	// signKey is the backend signature key bound to (API, environment).
	signKey *apigwv1.SignatureKey
	// jwt is the jwt_auth plug-in bound to (API, environment), nil when
	// there is none.
	jwt *jwtPlan
	// third is the third_auth plug-in bound to (API, environment), nil
	// when there is none.
	third *thirdPlan
	// blocked says why the API is refused instead of served with fewer
	// restrictions than configured (model.Instance.Blocked).
	blocked string
	// rateLimit is the rate_limit plug-in bound to (API, environment)
	// when it has rules, which ext_authz evaluates (nil otherwise).
	rateLimit *model.RateLimit
}

type segPlan struct {
	literal string
	isParam bool
	param   int // index into params (-1: undeclared)
	greedy  bool
}

type paramPlan struct {
	p          *apigwv1.ReqParam
	hname      string // lower-case header name
	loc        string
	required   bool
	number     bool
	validate   bool
	enum       []string
	drop       bool // pass_through = 2
	hasDefault bool
	// mapped: the mapped parameter of the orchestration rules, set by
	// ext_authz, never read from the request.
	mapped bool
}

// orchPlan is the orchestration of one parameter: its rules, the index
// of the input parameter and that of the mapped parameter in params.
type orchPlan struct {
	chain      *orch.Chain
	input, out int
}

type backendPlan struct {
	name string // policy name, "" for the default backend
	http bool   // an HTTP backend: the backend path is computed
	uri  string
	// method is the HTTP backend's req_method when requests reach it with
	// another method than the client's (docs/apig-semantics.md#backend-method):
	// set unless it is empty, ANY or the frontend's.
	method       string
	params       []backendParamPlan
	authorizerID string
}

type backendParamPlan struct {
	name     string // as declared (lower case for headers)
	loc      string
	origin   string
	src      int    // REQUEST: index of the declared parameter, -1 if none
	constant string // CONSTANT: the value, encoded for PATH and QUERY
	sysNS    string
	sysKey   string
}

type policyPlan struct {
	backendPlan
	all   bool
	conds []condPlan
}

type condPlan struct {
	origin string
	typ    string
	param  int    // param origin: index of the declared parameter
	sys    string // system origin: "path" or "method"
	cookie string
	ctxKey string // frontend_authorizer origin
	values []string
	re     *regexp.Regexp
	ips    model.IPSet
}

func compileAPI(in *model.Instance, pub *apigwv1.Publication) (*apiPlan, error) {
	a := pub.GetApi()
	env := in.Env(pub.EnvId)
	p := &apiPlan{pub: pub, api: a, env: env, prefix: a.MatchMode == model.MatchPrefix,
		acls: in.ACLsFor(pub.ApiId, pub.EnvId), authorized: map[string]bool{},
		apiIDValue: structpb.NewStringValue(pub.ApiId), envIDValue: structpb.NewStringValue(pub.EnvId),
		debugAPI: a.Name + " (" + pub.ApiId + ") " + env.GetName(), blocked: in.Blocked(pub.ApiId, pub.EnvId),
		signKey: signKeyOf(in, pub)}
	jp, err := compileJWT(in, pub.ApiId, pub.EnvId)
	if err != nil {
		return nil, fmt.Errorf("api %s: %w", a.Id, err)
	}
	p.jwt = jp
	if p.third, err = compileThird(in, pub.ApiId, pub.EnvId); err != nil {
		return nil, fmt.Errorf("api %s: %w", a.Id, err)
	}
	for _, aa := range model.List[*apigwv1.AppAuth](in, model.KindAppAuth) {
		if aa.ApiId == pub.ApiId && aa.EnvId == pub.EnvId {
			p.authorized[aa.AppId] = true
		}
	}
	if rl, err := in.RateLimitFor(pub.ApiId, pub.EnvId); err != nil {
		if p.blocked == "" {
			p.blocked = err.Error() // fail closed, as the rate-limit service does
		}
	} else if rl != nil && len(rl.Rules) > 0 {
		p.rateLimit = rl
	}
	switch a.ReqProtocol {
	case model.ProtoHTTP:
		p.http = true
	case model.ProtoBoth:
		p.http, p.https = true, true
	default:
		p.https = true
	}
	index := map[string]int{}
	for i, rp := range a.ReqParams {
		pp := paramPlan{p: rp, hname: strings.ToLower(rp.Name), loc: rp.Location,
			required: rp.Required == model.Yes, number: rp.Type == model.TypeNumber,
			validate: rp.ValidEnable == model.Yes, drop: rp.PassThrough == model.No,
			hasDefault: rp.Required != model.Yes && rp.DefaultValue != ""}
		if pp.validate && rp.Enumerations != "" {
			pp.enum = model.SplitList(rp.Enumerations)
		}
		p.params = append(p.params, pp)
		if _, dup := index[rp.Name]; !dup {
			index[rp.Name] = i
		}
	}
	if err := compileOrchestration(in, p, index); err != nil {
		return nil, fmt.Errorf("api %s: %w", a.Id, err)
	}
	tmpl, err := model.ParseFrontendPath(a.ReqUri)
	if err != nil {
		return nil, fmt.Errorf("api %s: req_uri: %w", a.Id, err)
	}
	for _, s := range tmpl.Segments {
		sp := segPlan{literal: s.Literal, param: -1, greedy: s.Greedy, isParam: s.Param != ""}
		if s.Param != "" {
			for i, pp := range p.params {
				if pp.loc == model.LocPath && pp.p.Name == s.Param {
					sp.param = i
				}
			}
		}
		p.segs = append(p.segs, sp)
	}
	p.def = compileBackend("", a.BackendType == model.BackendHTTP, defaultURI(a), a.BackendParams, defaultAuthorizer(a), index)
	if a.BackendType == model.BackendHTTP {
		p.def.method = model.BackendMethodChange(a.ReqMethod, a.GetBackendApi().GetReqMethod())
	}
	for _, ph := range a.PolicyHttps {
		pp, err := compilePolicy(ph.Name, true, ph.ReqUri, ph.EffectMode, ph.Conditions, ph.BackendParams, ph.AuthorizerId, index)
		if err != nil {
			return nil, fmt.Errorf("api %s: policy %s: %w", a.Id, ph.Name, err)
		}
		pp.method = model.BackendMethodChange(a.ReqMethod, ph.ReqMethod)
		p.policies = append(p.policies, pp)
	}
	for _, pf := range a.PolicyFunctions {
		pp, err := compilePolicy(pf.Name, false, "", pf.EffectMode, pf.Conditions, pf.BackendParams, pf.AuthorizerId, index)
		if err != nil {
			return nil, fmt.Errorf("api %s: policy %s: %w", a.Id, pf.Name, err)
		}
		p.policies = append(p.policies, pp)
	}
	for _, pm := range a.PolicyMocks {
		pp, err := compilePolicy(pm.Name, false, "", pm.EffectMode, pm.Conditions, pm.BackendParams, pm.AuthorizerId, index)
		if err != nil {
			return nil, fmt.Errorf("api %s: policy %s: %w", a.Id, pm.Name, err)
		}
		p.policies = append(p.policies, pp)
	}
	// The http, http_vpc and func downgrades of a bound breaker plug-in: policies without
	// conditions, selected by checkBreaker when their breaker is open.
	if bp := in.PluginOf(pub.ApiId, pub.EnvId, model.PluginBreaker); bp != nil {
		p.breaker = true
		if v := model.BreakerContentOf(bp); v != nil {
			for _, ph := range model.BreakerHTTPPolicies(v, a.BackendParams) {
				pp, err := compilePolicy(ph.Name, true, ph.ReqUri, "", nil, ph.BackendParams, "", index)
				if err != nil {
					return nil, fmt.Errorf("api %s: breaker downgrade %s: %w", a.Id, ph.Name, err)
				}
				pp.method = model.BackendMethodChange(a.ReqMethod, ph.ReqMethod)
				p.policies = append(p.policies, pp)
			}
			// func downgrades: the functions component, as FUNCTION
			// policy backends are.
			for _, pf := range model.BreakerFunctionPolicies(v, a.BackendParams) {
				pp, err := compilePolicy(pf.Name, false, "", "", nil, pf.BackendParams, "", index)
				if err != nil {
					return nil, fmt.Errorf("api %s: breaker downgrade %s: %w", a.Id, pf.Name, err)
				}
				p.policies = append(p.policies, pp)
			}
		}
	}
	return p, nil
}

// compileOrchestration compiles the rules of the parameter that has some
// and declares their mapped parameter, so that backend parameters and
// policy conditions find it by name.
func compileOrchestration(in *model.Instance, p *apiPlan, index map[string]int) error {
	for i, rp := range p.api.ReqParams {
		if len(rp.Orchestrations) == 0 {
			continue
		}
		rules := make([]*apigwv1.Orchestration, 0, len(rp.Orchestrations))
		for _, id := range rp.Orchestrations {
			o := in.Orchestration(id)
			if o == nil {
				return fmt.Errorf("req_params[%d]: orchestration rule %s does not exist", i, id)
			}
			rules = append(rules, o)
		}
		ch, err := orch.Compile(rules)
		if err != nil {
			return fmt.Errorf("req_params[%d]: %w", i, err)
		}
		loc := model.LocHeader
		if ch.Loc == "query" {
			loc = model.LocQuery
		}
		p.orch = &orchPlan{chain: ch, input: i, out: len(p.params)}
		p.params = append(p.params, paramPlan{p: &apigwv1.ReqParam{Name: ch.Name, Location: loc}, hname: strings.ToLower(ch.Name), loc: loc, mapped: true})
		index[ch.Name] = p.orch.out
		return nil
	}
	return nil
}

func defaultURI(a *apigwv1.Api) string {
	if a.BackendApi != nil {
		return a.BackendApi.ReqUri
	}
	return ""
}

func defaultAuthorizer(a *apigwv1.Api) string {
	switch a.BackendType {
	case model.BackendFunction:
		return a.GetFuncInfo().GetAuthorizerId()
	case model.BackendMock:
		return a.GetMockInfo().GetAuthorizerId()
	}
	return a.GetBackendApi().GetAuthorizerId()
}

func compileBackend(name string, http bool, uri string, params []*apigwv1.BackendParam, authz string, index map[string]int) backendPlan {
	b := backendPlan{name: name, http: http, uri: uri, authorizerID: authz}
	for _, bp := range params {
		pp := backendParamPlan{name: bp.Name, loc: bp.Location, origin: bp.Origin, src: -1}
		if bp.Location == model.LocHeader {
			pp.name = strings.ToLower(bp.Name)
		}
		switch bp.Origin {
		case model.OriginRequest:
			if i, ok := index[bp.Value]; ok {
				pp.src = i
			}
		case model.OriginConstant:
			switch bp.Location {
			case model.LocPath:
				pp.constant = encodePathValue(bp.Value)
			case model.LocQuery:
				pp.constant = encodeQueryValue(bp.Value)
			default:
				pp.constant = bp.Value
			}
		case model.OriginSystem:
			pp.sysNS, pp.sysKey = model.SystemParamKey(bp)
		}
		b.params = append(b.params, pp)
	}
	return b
}

func compilePolicy(name string, http bool, uri, effect string, conds []*apigwv1.Condition, params []*apigwv1.BackendParam, authz string, index map[string]int) (policyPlan, error) {
	pp := policyPlan{backendPlan: compileBackend(name, http, uri, params, authz, index), all: effect == model.EffectAll}
	for _, c := range conds {
		cp := condPlan{origin: c.ConditionOrigin, typ: c.ConditionType, param: -1}
		switch c.ConditionOrigin {
		case model.CondParam:
			if i, ok := index[c.ReqParamName]; ok {
				cp.param = i
			}
		case model.CondSystem:
			cp.sys = "path"
			if m := c.SysParamName; m == "req_method" || m == "reqMethod" {
				cp.sys = "method"
			}
		case model.CondCookie:
			cp.cookie = c.CookieParamName
		case model.CondFrontendAuthorizer:
			cp.ctxKey = strings.TrimPrefix(c.FrontendAuthorizerParamName, "$context.authorizer.frontend.")
		case model.CondSource:
			ips, err := model.ParseIPSet(model.SplitList(c.ConditionValue))
			if err != nil {
				return pp, err
			}
			cp.ips = ips
		}
		switch {
		case c.ConditionOrigin == model.CondSource:
		case c.ConditionType == model.CondPattern:
			re, err := regexp.Compile(c.ConditionValue)
			if err != nil {
				return pp, err
			}
			cp.re = re
		case c.ConditionType == model.CondEnum:
			cp.values = model.SplitList(c.ConditionValue)
		default:
			cp.values = []string{c.ConditionValue}
		}
		pp.conds = append(pp.conds, cp)
	}
	return pp, nil
}

// aclPlan is an ACL policy prepared for checks.
type aclPlan struct {
	permit bool
	entity string
	ips    model.IPSet
	names  map[string]bool
}

func compileACL(a *apigwv1.Acl) (*aclPlan, error) {
	p := &aclPlan{permit: a.AclType == model.ACLPermit, entity: a.EntityType}
	if a.EntityType == model.EntityIP {
		ips, err := model.ParseIPSet(model.SplitList(a.AclValue))
		if err != nil {
			return nil, fmt.Errorf("acl %s: %w", a.Id, err)
		}
		p.ips = ips
		return p, nil
	}
	p.names = map[string]bool{}
	for _, v := range model.SplitList(a.AclValue) {
		p.names[v] = true
	}
	return p, nil
}

// appACL is a credential's IP restriction.
type appACL struct {
	permit bool
	ips    model.IPSet
}

func compileAppACL(a *apigwv1.App) (*appACL, error) {
	acl := a.GetAppAcl()
	if acl == nil || len(acl.AppAclValues) == 0 {
		return nil, nil
	}
	ips, err := model.ParseIPSet(acl.AppAclValues)
	if err != nil {
		return nil, fmt.Errorf("app %s: app_acl: %w", a.Id, err)
	}
	return &appACL{permit: acl.AppAclType == model.ACLPermit, ips: ips}, nil
}

// compileAuthorizer prepares an authorizer; one whose authorizer_uri is a
// function URN is called at the URL the instance's function registry maps
// it onto (alias over version), and fails closed when it maps none.
func compileAuthorizer(in *model.Instance, a *apigwv1.Authorizer) (*authorizer.Spec, error) {
	if !model.IsFunctionURN(a.GetAuthorizerUri()) {
		return authorizer.Compile(in.Name, a)
	}
	fn := model.ResolveFunction(in.Config, a.AuthorizerUri, a.AuthorizerVersion, a.AuthorizerAliasUri)
	if fn == nil {
		return nil, fmt.Errorf("authorizer %s: function %s is not in the instance's function registry", a.Id, a.AuthorizerUri)
	}
	return authorizer.CompileAt(in.Name, a, fn.Url, fn.Authorization)
}
