package model

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Ref is a reference from one object to another, by a field holding the
// target id (or, in admin API input, its name).
type Ref struct {
	Field string
	Kind  string
	// Group scopes response-set references to the API's group.
	Group string
	// Optional references (throttling specials naming apps by id) may
	// name an object that does not exist: they are stored verbatim, a name
	// of an existing object is still resolved to its id, and they do not
	// keep the target from being deleted.
	Optional bool
	p        *string
}

// Get returns the referenced id (or name).
func (r Ref) Get() string { return *r.p }

// Set replaces the reference.
func (r Ref) Set(v string) { *r.p = v }

func ref(field, kind string, p *string) Ref {
	return Ref{Field: field, Kind: kind, p: p}
}

// Refs lists the references an object makes. Empty references are
// included; callers skip them.
func Refs(m proto.Message) []Ref {
	var out []Ref
	switch v := m.(type) {
	case *apigwv1.ApiGroup:
		for i, d := range v.UrlDomains {
			out = append(out, ref(index("url_domains", i)+".ssl_id", KindCertificate, &d.SslId))
		}
	case *apigwv1.EnvVariable:
		out = append(out, ref("group_id", KindGroup, &v.GroupId), ref("env_id", KindEnvironment, &v.EnvId))
	case *apigwv1.GatewayResponse:
		out = append(out, ref("group_id", KindGroup, &v.GroupId))
	case *apigwv1.Api:
		out = apiRefs("", v)
	case *apigwv1.Throttle:
		for i, s := range v.Specials {
			if s.ObjectType == SpecialApp {
				r := ref(index("specials", i)+".object_id", KindApp, &s.ObjectId)
				r.Optional = true
				out = append(out, r)
			}
		}
	case *apigwv1.App:
		out = append(out, ref("app_quota_id", KindAppQuota, &v.AppQuotaId))
	case *apigwv1.VpcChannel:
		for i, g := range v.MemberGroups {
			if g.ReferenceVpcChannelId != "" {
				out = append(out, ref(index("member_groups", i)+".reference_vpc_channel_id", KindVpcChannel, &g.ReferenceVpcChannelId))
			}
		}
	case *apigwv1.ThrottleBinding:
		out = append(out, ref("api_id", KindAPI, &v.ApiId), ref("env_id", KindEnvironment, &v.EnvId), ref("strategy_id", KindThrottle, &v.StrategyId))
	case *apigwv1.AclBinding:
		out = append(out, ref("api_id", KindAPI, &v.ApiId), ref("env_id", KindEnvironment, &v.EnvId), ref("acl_id", KindACL, &v.AclId))
	case *apigwv1.AppAuth:
		out = append(out, ref("api_id", KindAPI, &v.ApiId), ref("env_id", KindEnvironment, &v.EnvId), ref("app_id", KindApp, &v.AppId))
	case *apigwv1.SignatureBinding:
		out = append(out, ref("api_id", KindAPI, &v.ApiId), ref("env_id", KindEnvironment, &v.EnvId), ref("sign_id", KindSignature, &v.SignId))
	case *apigwv1.PluginBinding:
		out = append(out, ref("api_id", KindAPI, &v.ApiId), ref("env_id", KindEnvironment, &v.EnvId), ref("plugin_id", KindPlugin, &v.PluginId))
	case *apigwv1.Publication:
		out = append(out, ref("api_id", KindAPI, &v.ApiId), ref("env_id", KindEnvironment, &v.EnvId))
		if v.Api != nil {
			for _, r := range apiRefs("api", v.Api) {
				if r.Kind != KindResponse {
					out = append(out, r)
				}
			}
		}
	case *apigwv1.Release:
		out = append(out, ref("api_id", KindAPI, &v.ApiId), ref("env_id", KindEnvironment, &v.EnvId), ref("publication_id", KindPublication, &v.PublicationId))
	}
	return out
}

func apiRefs(prefix string, a *apigwv1.Api) []Ref {
	f := func(s string) string { return join(prefix, s) }
	n := 4 + 2*len(a.PolicyHttps) + len(a.PolicyFunctions) + len(a.PolicyMocks) // one allocation: this runs for every API written
	if a.GetBackendApi().GetVpcChannelInfo() != nil {
		n++
	}
	if a.FuncInfo != nil {
		n++
	}
	if a.MockInfo != nil {
		n++
	}
	out := make([]Ref, 0, n)
	out = append(out, ref(f("group_id"), KindGroup, &a.GroupId), ref(f("authorizer_id"), KindAuthorizer, &a.AuthorizerId))
	rr := ref(f("response_id"), KindResponse, &a.ResponseId)
	rr.Group = a.GroupId
	out = append(out, rr)
	if b := a.BackendApi; b != nil {
		out = append(out, ref(f("backend_api.authorizer_id"), KindAuthorizer, &b.AuthorizerId))
		if b.VpcChannelInfo != nil {
			out = append(out, ref(f("backend_api.vpc_channel_info.vpc_channel_id"), KindVpcChannel, &b.VpcChannelInfo.VpcChannelId))
		}
	}
	if fi := a.FuncInfo; fi != nil {
		out = append(out, ref(f("func_info.authorizer_id"), KindAuthorizer, &fi.AuthorizerId))
	}
	if mi := a.MockInfo; mi != nil {
		out = append(out, ref(f("mock_info.authorizer_id"), KindAuthorizer, &mi.AuthorizerId))
	}
	for i, p := range a.PolicyHttps {
		out = append(out, ref(f(index("policy_https", i))+".authorizer_id", KindAuthorizer, &p.AuthorizerId))
		if p.VpcChannelInfo != nil {
			out = append(out, ref(f(index("policy_https", i))+".vpc_channel_info.vpc_channel_id", KindVpcChannel, &p.VpcChannelInfo.VpcChannelId))
		}
	}
	for i, p := range a.PolicyFunctions {
		out = append(out, ref(f(index("policy_functions", i))+".authorizer_id", KindAuthorizer, &p.AuthorizerId))
	}
	for i, p := range a.PolicyMocks {
		out = append(out, ref(f(index("policy_mocks", i))+".authorizer_id", KindAuthorizer, &p.AuthorizerId))
	}
	for i, p := range a.ReqParams {
		for j := range p.Orchestrations {
			out = append(out, ref(f(index("req_params", i))+"."+index("orchestrations", j), KindOrchestration, &p.Orchestrations[j]))
		}
	}
	return out
}

// Resolve rewrites references given by name into ids (admin API input may
// name objects). References that match nothing are left for Check to report.
func (in *Instance) Resolve(m proto.Message) {
	for _, r := range Refs(m) {
		v := r.Get()
		if v == "" || in.Get(r.Kind, v) != nil {
			continue
		}
		if r.Kind == KindResponse {
			if set := in.ResponseSet(r.Group, v); set != nil {
				r.Set(set.Id)
			}
			continue
		}
		if o, err := in.Find(r.Kind, v); err == nil {
			r.Set(IDOf(o))
		}
	}
}

// Referrer is an object that references another.
type Referrer struct {
	Kind, ID, Field string
}

func (r Referrer) String() string { return fmt.Sprintf("%s %s (%s)", r.Kind, r.ID, r.Field) }

// Referrers lists the objects referencing (kind, id). Publication records
// only count while they are current. It costs O(referrers): references are
// indexed backwards.
func (in *Instance) Referrers(kind, id string) []Referrer {
	var out []Referrer
	if kind == KindVpcChannel {
		out = append(out, in.thirdAuthChannelUsers(id)...)
		out = append(out, in.breakerChannelUsers(id)...)
	}
	for _, r := range in.referrers(kind, id) {
		if r.Kind == KindPublication {
			if p, ok := in.Get(KindPublication, r.ID).(*apigwv1.Publication); !ok || in.Served(p.ApiId, p.EnvId) != p {
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// Check verifies the rules that involve other objects, for objects already
// placed in this view: references exist, natural keys are unique, quotas
// are respected and the group of an API's response set matches.
func (in *Instance) Check(m proto.Message) Violations {
	var vs Violations
	c := newChecker(&vs, "")
	in.checkRefs(c, m)
	in.checkKinds(c, m)
	in.checkUnique(c, m)
	in.checkQuotas(c, m)
	return vs
}

func (in *Instance) checkKinds(c checker, m proto.Message) {
	switch v := m.(type) {
	case *apigwv1.Api:
		in.checkOrchestrations(c, v)
		if a := in.Authorizer(v.AuthorizerId); a != nil && a.Type != AuthorizerFrontend {
			c.add("authorizer_id", "authorizer %q is a %s authorizer; the API needs a FRONTEND one", a.Name, a.Type)
		}
		for _, r := range apiRefs("", v) {
			if r.Kind == KindAuthorizer && r.Field != "authorizer_id" {
				if a := in.Authorizer(r.Get()); a != nil && a.Type != AuthorizerBackend {
					c.add(r.Field, "authorizer %q is a %s authorizer; backends need a BACKEND one", a.Name, a.Type)
				}
			}
		}
		in.checkClientSSL(c, "", v)
		in.checkAPIPlugins(c, v)
		in.checkFunctions(c, "", v)
		in.checkGroupBackends(c, "", v, v.Id, "")
		in.checkAppRouteAPI(c, "req_uri", v.Id, "", v)
	case *apigwv1.Plugin:
		in.checkPluginUse(c, v)
	case *apigwv1.PluginBinding:
		in.checkPluginBinding(c, v)
	case *apigwv1.Publication:
		if v.Api != nil {
			in.checkClientSSL(c, "api", v.Api)
			in.checkFunctions(c, "api", v.Api)
			in.checkGroupBackends(c, "api", v.Api, v.ApiId, v.EnvId)
			in.checkAppRouteAPI(c, "api.req_uri", v.ApiId, v.EnvId, v.Api)
		}
	case *apigwv1.SignatureBinding:
		in.checkSignatureOfGroups(c, v)
	case *apigwv1.Release:
		// A rollback serves an older publication, with its path.
		if p, ok := in.Get(KindPublication, v.PublicationId).(*apigwv1.Publication); ok && p.Api != nil {
			in.checkAppRouteAPI(c, "publication_id", v.ApiId, v.EnvId, p.Api)
		}
	case *apigwv1.AppAuth:
		in.checkAppRouteAuth(c, v)
	case *apigwv1.VpcChannel:
		in.checkChannelGroupsUsed(c, v)
		in.checkReferenceChannel(c, v)
		for _, r := range in.thirdAuthChannelUsers(v.Id) {
			c.add("name", "third_auth plug-in %s names this channel by a name it would no longer have (%s): keep the name or change the plug-in first", r.ID, r.Field)
		}
		if v.GetVpcHealthConfig().GetEnableClientSsl() && in.Def.GetConfig().GetBackendTls().GetClientCertificate() == "" {
			c.add("vpc_health_config.enable_client_ssl", "needs the instance's backend client certificate (instance config.backend_tls.client_certificate)")
		}
	case *apigwv1.Instance:
		in.checkIngressPortsUsed(c, v)
		in.checkGatewayAddresses(c, v, nil)
		in.checkAppRouteConfig(c, v)
		in.checkFunctionsUsed(c, v)
		if v.GetConfig().GetBackendTls().GetClientCertificate() == "" {
			for _, o := range in.Objects(KindVpcChannel) {
				if ch := o.(*apigwv1.VpcChannel); ch.GetVpcHealthConfig().GetEnableClientSsl() {
					c.add("config.backend_tls.client_certificate", "is required: channel %s (%s) has vpc_health_config.enable_client_ssl", ch.Id, ch.Name)
				}
			}
			for _, kind := range []string{KindAPI, KindPublication} {
				for _, o := range in.Objects(kind) {
					a, ok := o.(*apigwv1.Api)
					if p, isPub := o.(*apigwv1.Publication); isPub {
						a, ok = p.Api, p.Api != nil && in.Served(p.ApiId, p.EnvId) == p
					}
					if ok && len(ClientSSLFields(a)) > 0 {
						c.add("config.backend_tls.client_certificate", "is required: %s %s (%s) has enable_client_ssl", kind, IDOf(o), a.Name)
					}
				}
			}
		}
	case *apigwv1.ApiGroup:
		checkIngressPorts(c, in.Config, v)
		in.checkGatewayAddresses(c, nil, v)
	case *apigwv1.Orchestration:
		in.checkOrchestrationUsers(c, v)
	case *apigwv1.Authorizer:
		in.checkAuthorizerFunction(c, v)
	case *apigwv1.Environment:
		if v.Id == ReleaseEnvID && v.Name != ReleaseEnvName {
			c.add("name", "the built-in environment is called RELEASE")
		}
	}
}

// Integrity checks every object of the view (used after deletions).
func (in *Instance) Integrity() error {
	var errs []error
	for _, k := range kindTable {
		for _, o := range in.Objects(k.Name) {
			if vs := in.Check(o); len(vs) > 0 {
				errs = append(errs, fmt.Errorf("%s %s: %w", k.Name, IDOf(o), vs.Err()))
			}
		}
	}
	return errors.Join(errs...)
}

// checkClientSSL refuses enable_client_ssl while the instance has no
// backend client certificate to present.
func (in *Instance) checkClientSSL(c checker, prefix string, a *apigwv1.Api) {
	if in.Def.GetConfig().GetBackendTls().GetClientCertificate() != "" {
		return
	}
	for _, f := range ClientSSLFields(a) {
		c.add(join(prefix, f), "needs the instance's backend client certificate (instance config.backend_tls.client_certificate)")
	}
}

// ClientSSLFields lists the field paths of an API's HTTP backends that
// have enable_client_ssl.
func ClientSSLFields(a *apigwv1.Api) []string {
	var out []string
	if a.GetBackendApi().GetEnableClientSsl() {
		out = append(out, "backend_api.enable_client_ssl")
	}
	for i, p := range a.PolicyHttps {
		if p.EnableClientSsl {
			out = append(out, index("policy_https", i)+".enable_client_ssl")
		}
	}
	return out
}
