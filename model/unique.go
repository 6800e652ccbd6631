package model

import (
	"strings"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

type uniqueKey struct {
	field, key, what string
}

// uniqueKeys returns the natural keys an object must not share with another
// object of the instance.
func (in *Instance) uniqueKeys(m proto.Message) []uniqueKey {
	k := KindOf(m)
	var out []uniqueKey
	if k.NameField != "" && k.Name != KindEnvVariable && k.Name != KindAPI && k.Name != KindResponse {
		out = append(out, uniqueKey{string(k.NameField), k.Name + "/name/" + NameOf(m), "name"})
	}
	switch v := m.(type) {
	case *apigwv1.ApiGroup:
		for i, d := range v.UrlDomains {
			out = append(out, uniqueKey{index("url_domains", i) + ".domain", "domain/" + strings.ToLower(d.Domain), "domain"})
		}
	case *apigwv1.EnvVariable:
		out = append(out, uniqueKey{"variable_name", "var/" + v.GroupId + "/" + v.EnvId + "/" + v.VariableName, "variable in this group and environment"})
	case *apigwv1.Api:
		out = append(out,
			uniqueKey{"name", "api/" + v.GroupId + "/name/" + v.Name, "API name in the group"},
			uniqueKey{"req_uri", "api/" + v.GroupId + "/route/" + v.ReqMethod + " " + RouteShape(v.ReqUri) + " " + v.MatchMode, "method, path and match mode in the group"})
	case *apigwv1.GatewayResponse:
		out = append(out, uniqueKey{"name", "response/" + v.GroupId + "/" + v.Name, "response set name in the group"})
	case *apigwv1.App:
		if v.AppKey != "" {
			out = append(out, uniqueKey{"app_key", "app_key/" + v.AppKey, "app_key"})
		}
		for i, c := range v.AppCodes {
			if c.AppCode != "" {
				out = append(out, uniqueKey{index("app_codes", i) + ".app_code", "app_code/" + c.AppCode, "AppCode"})
			}
		}
	case *apigwv1.ThrottleBinding:
		out = append(out, uniqueKey{"api_id", "tb/" + v.ApiId + "/" + v.EnvId, "throttling binding for this API and environment"})
	case *apigwv1.AclBinding:
		if a := in.ACL(v.AclId); a != nil {
			out = append(out, uniqueKey{"acl_id", "ab/" + v.ApiId + "/" + v.EnvId + "/" + a.EntityType, a.EntityType + " ACL binding for this API and environment"})
		}
	case *apigwv1.SignatureBinding:
		out = append(out, uniqueKey{"sign_id", "sb/" + v.ApiId + "/" + v.EnvId, "signature key binding for this API and environment"})
	case *apigwv1.PluginBinding:
		if p := get[*apigwv1.Plugin](in, KindPlugin, v.PluginId); p != nil {
			out = append(out, uniqueKey{"plugin_id", "pb/" + v.ApiId + "/" + v.EnvId + "/" + p.PluginType, p.PluginType + " plug-in binding for this API and environment"})
		}
	case *apigwv1.AppAuth:
		out = append(out, uniqueKey{"app_id", "aa/" + v.ApiId + "/" + v.EnvId + "/" + v.AppId, "authorization of this app for this API and environment"})
	}
	return out
}

// checkUnique reports natural keys of m that another object also has.
func (in *Instance) checkUnique(c checker, m proto.Message) {
	self := [2]string{KindOf(m).Name, IDOf(m)}
	for _, k := range in.uniqueKeys(m) {
		for _, owner := range in.uniq.Value(k.key) {
			if owner != self {
				c.add(k.field, "%s is already used by %s %s", k.what, owner[0], owner[1])
				break
			}
		}
	}
}

// checkQuotas reports counts over the instance quotas.
func (in *Instance) checkQuotas(c checker, m proto.Message) {
	q := in.Config.GetQuotas()
	over := func(field string, n int, limit int32, what string) {
		if n > int(limit) {
			c.add(field, "the instance allows at most %d %s (quotas); this would make %d", limit, what, n)
		}
	}
	switch v := m.(type) {
	case *apigwv1.ApiGroup:
		over("", in.StoredCount(KindGroup), q.ApiGroups, "API groups")
	case *apigwv1.Environment:
		over("", in.Count(KindEnvironment), q.Environments, "environments")
	case *apigwv1.Api:
		over("", in.Count(KindAPI), q.Apis, "APIs")
		n := in.ReferrerCount(KindGroup, v.GroupId, KindAPI)
		over("group_id", n, q.ApisPerGroup, "APIs per group")
	case *apigwv1.EnvVariable:
		over("", len(in.EnvVars(v.GroupId, v.EnvId)), q.VariablesPerEnv, "variables per group and environment")
	case *apigwv1.App:
		over("", in.Count(KindApp), q.Apps, "apps")
	case *apigwv1.Throttle:
		over("", in.Count(KindThrottle), q.Throttles, "throttling policies")
	case *apigwv1.Acl:
		over("", in.Count(KindACL), q.Acls, "ACL policies")
	case *apigwv1.VpcChannel:
		over("", in.Count(KindVpcChannel), q.VpcChannels, "load-balance channels")
	case *apigwv1.Authorizer:
		over("", in.Count(KindAuthorizer), q.Authorizers, "custom authorizers")
	case *apigwv1.AppQuota:
		over("", in.Count(KindAppQuota), q.AppQuotas, "credential quotas")
	case *apigwv1.Certificate:
		over("", in.Count(KindCertificate), q.Certificates, "certificates")
	case *apigwv1.SignatureKey:
		over("", in.Count(KindSignature), q.Signatures, "signature keys")
	case *apigwv1.Plugin:
		if v.PluginType == PluginKafkaLog {
			n := 0
			for _, m := range in.Objects(KindPlugin) {
				if p, ok := m.(*apigwv1.Plugin); ok && p.PluginType == PluginKafkaLog {
					n++
				}
			}
			if n > MaxKafkaLogPlugins {
				c.add("plugin_type", "an instance holds at most %d kafka_log plug-ins; this would make %d", MaxKafkaLogPlugins, n)
			}
		}
	case *apigwv1.GatewayResponse:
		n := 0
		for _, id := range in.ReferrerIDs(KindGroup, v.GroupId, KindResponse) {
			if r, ok := in.Get(KindResponse, id).(*apigwv1.GatewayResponse); ok && r.Name != DefaultResponse {
				n++
			}
		}
		over("", n, q.ResponseSetsPerGroup, "custom gateway-response sets per group")
	}
}
