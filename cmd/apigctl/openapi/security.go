package openapi

import (
	"regexp"
	"strings"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

var reNotPolicyName = regexp.MustCompile(`[^\p{L}\p{N}_]`)

// authorizerName turns a security scheme name into a valid authorizer name
// (letters, digits and underscores).
func authorizerName(scheme string) string {
	return reNotPolicyName.ReplaceAllString(scheme, "_")
}

func (c *converter) securitySchemes() {
	for _, name := range sortedKeys(c.doc.security) {
		s := c.doc.security[name]
		c.unknownExt("scheme", s.ptr, s.ext)
		raw, ok := s.ext[extAuthorizer]
		if !ok {
			continue
		}
		p := ptr(s.ptr, extAuthorizer)
		o, ok := asObj(c.ps, p, raw)
		if !ok {
			continue
		}
		az := &apigwv1.Authorizer{Name: authorizerName(name)}
		if az.Name != name {
			c.ps.warnf(s.ptr, "the authorizer is named %q (authorizer names are letters, digits and underscores)", az.Name)
		}
		az.Type = o.enum([]string{"type"}, model.AuthorizerFrontend, model.AuthorizerBackend)
		if az.Type == "" {
			c.ps.errorf(p, "type is required: FRONTEND or BACKEND")
		}
		az.AuthorizerType = o.enum([]string{"authorizer_type"}, "FUNC")
		az.AuthorizerUri = o.str("authorizer_uri")
		if az.AuthorizerUri == "" {
			c.ps.errorf(p, "authorizer_uri is required")
		}
		az.AuthorizerVersion = o.str("authorizer_version")
		az.AuthorizerAliasUri = o.str("authorizer_alias_uri")
		az.NetworkType = o.enum([]string{"network_type"}, "V1", "V2")
		ids, ip := o.list("identities")
		for i, v := range ids {
			io, ok := asObj(c.ps, ptr(ip, i), v)
			if !ok {
				continue
			}
			id := &apigwv1.Identity{Name: io.str("name"), Location: io.enum([]string{"location"}, model.LocHeader, model.LocQuery), Validation: io.str("validation")}
			if id.Name == "" {
				c.ps.errorf(ptr(ip, i), "name is required")
			}
			io.unknown("an identity")
			az.Identities = append(az.Identities, id)
		}
		if n, ok := o.num("ttl"); ok {
			az.Ttl = int32(n)
		}
		if b, ok := o.boolean("need_body"); ok {
			az.NeedBody = b
		}
		if b, ok := o.boolean("auth_downgrade_enabled"); ok {
			az.AuthDowngradeEnabled = b
		}
		if n, ok := o.num("retry_attempts"); ok && n > 0 {
			c.ps.warnf(ptr(p, "retry_attempts"), "retries of authorizer calls are not supported; ignored")
		}
		if n, ok := o.num("timeout"); ok {
			az.Timeout = int32(n)
		}
		az.UserData = o.str("user_data")
		az.Remark = o.str("remark", "description")
		o.unknown(extAuthorizer)
		c.authorizers[name] = az.Name
		c.plan.Authorizers = append(c.plan.Authorizers, Item[*apigwv1.Authorizer]{Ptr: p, Msg: az})
	}
}

// security sets auth_type, auth_opt and authorizer_id from the security
// requirement of an operation (or of the document).
func (c *converter) security(op *operation, a *apigwv1.Api) {
	reqs, p := op.security, ptr(op.ptr, "security")
	if reqs == nil {
		reqs, p = c.doc.rootSecurity, "/security"
	}
	a.AuthType = model.AuthNone
	if reqs == nil || len(*reqs) == 0 {
		return
	}
	if len(*reqs) > 1 {
		c.ps.warnf(p, "only the first security requirement is used (alternatives are not supported)")
	}
	req := (*reqs)[0]
	for _, f := range []string{"auth_type", "authorizer_id", "auth_opt"} {
		c.rec(f, ptr(p, 0))
	}
	for _, name := range sortedKeys(req) {
		s := c.doc.security[name]
		if s == nil {
			c.ps.errorf(ptr(p, 0, name), "names no security scheme")
			continue
		}
		ex := &obj{ptr: s.ptr, m: s.ext, used: map[string]bool{}, ps: c.ps}
		authType := ex.enum([]string{extAuthType}, "AppSigv1", "APP", "IAM", "IAM_NONE", "AUTHORIZER", "NONE")
		_, isAuthorizer := s.ext[extAuthorizer]
		switch {
		case authType == "AppSigv1" || authType == "APP":
			a.AuthType = model.AuthApp
		case authType == "IAM" || authType == "IAM_NONE":
			if authType == "IAM_NONE" {
				c.ps.warnf(ptr(s.ptr, extAuthType), "IAM_NONE is imported as IAM")
			}
			a.AuthType = model.AuthIAM
		case isAuthorizer:
			a.AuthorizerId = c.authorizers[name]
			if a.AuthType == model.AuthNone {
				a.AuthType = model.AuthAuthorizer
			}
		case authType == "NONE":
		default:
			c.ps.errorf(s.ptr, "security scheme %q has no %s or %s: apigw cannot enforce it", name, extAuthType, extAuthorizer)
		}
		if isAuthorizer && a.AuthorizerId == "" {
			a.AuthorizerId = c.authorizers[name]
		}
		if opt := ex.object(extAuthOpt); opt != nil {
			if opt.enum([]string{"appcode-auth-type"}, "disable", "header") == "header" {
				a.AuthOpt = &apigwv1.AuthOpt{AppCodeAuthType: model.AppCodeHeader}
			}
			opt.unknown(extAuthOpt)
		}
	}
	if a.AuthorizerId != "" && (a.AuthType == model.AuthApp || a.AuthType == model.AuthIAM) {
		return // two-factor: APP or IAM and a frontend authorizer
	}
	if strings.EqualFold(a.AuthType, model.AuthAuthorizer) && a.AuthorizerId == "" {
		c.ps.errorf(p, "AUTHORIZER authentication needs a scheme with %s", extAuthorizer)
	}
}
