package model

import (
	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Validate checks the rules of a single definition that need nothing but
// the definition and the limits (names, formats, ranges). Rules that need
// other objects (references, uniqueness, quotas) are checked by
// (*Instance).Check. Call Normalize first. Every violation is returned.
func Validate(m proto.Message, lim Limits) Violations {
	var vs Violations
	c := newChecker(&vs, "")
	switch m.(type) {
	case *apigwv1.Instance, *apigwv1.Release: // identified by name / by API and environment
	default:
		if id := IDOf(m); id != "" && !reID.MatchString(id) {
			c.add("id", "must be 1-64 of [A-Za-z0-9_-]")
		}
	}
	switch v := m.(type) {
	case *apigwv1.Instance:
		validateInstance(c, v)
	case *apigwv1.ApiGroup:
		validateGroup(c, v, lim)
	case *apigwv1.Environment:
		validateEnvironment(c, v)
	case *apigwv1.EnvVariable:
		validateEnvVariable(c, v)
	case *apigwv1.Api:
		validateAPI(c, v, lim)
	case *apigwv1.VpcChannel:
		validateChannel(c, v, lim)
	case *apigwv1.Throttle:
		validateThrottle(c, v, lim)
	case *apigwv1.Acl:
		validateACL(c, v)
	case *apigwv1.App:
		validateApp(c, v, lim)
	case *apigwv1.AppQuota:
		validateAppQuota(c, v)
	case *apigwv1.Authorizer:
		validateAuthorizer(c, v)
	case *apigwv1.GatewayResponse:
		validateResponse(c, v)
	case *apigwv1.Certificate:
		validateCertificate(c, v)
	case *apigwv1.Orchestration:
		validateOrchestration(c, v)
	case *apigwv1.ThrottleBinding:
		validateBinding(c, v.ApiId, v.EnvId, "strategy_id", v.StrategyId)
	case *apigwv1.AclBinding:
		validateBinding(c, v.ApiId, v.EnvId, "acl_id", v.AclId)
	case *apigwv1.AppAuth:
		validateBinding(c, v.ApiId, v.EnvId, "app_id", v.AppId)
	case *apigwv1.SignatureKey:
		validateSignatureKey(c, v)
	case *apigwv1.SignatureBinding:
		validateBinding(c, v.ApiId, v.EnvId, "sign_id", v.SignId)
	case *apigwv1.Plugin:
		validatePlugin(c, v, lim)
	case *apigwv1.PluginBinding:
		validateBinding(c, v.ApiId, v.EnvId, "plugin_id", v.PluginId)
	case *apigwv1.Publication:
		c.required("api_id", v.ApiId)
		c.required("env_id", v.EnvId)
		if v.Api == nil {
			c.add("api", "is required")
		} else {
			validateAPI(c.at("api"), v.Api, lim)
		}
	case *apigwv1.Release:
		c.required("api_id", v.ApiId)
		c.required("env_id", v.EnvId)
		c.required("publication_id", v.PublicationId)
	default:
		c.add("", "unknown resource type %T", m)
	}
	return vs
}

func validateBinding(c checker, apiID, envID, policyField, policyID string) {
	c.required("api_id", apiID)
	c.required("env_id", envID)
	c.required(policyField, policyID)
}
