package model

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Publication builds the immutable publication record of an API's current
// draft for an environment: the full definition with every #variable#
// resolved from the group's variables in that environment
// (docs/apig-semantics.md#publication). A
// variable the environment does not define fails the publication.
func (in *Instance) Publication(apiID, envID, pubID, version, remark string, now time.Time) (*apigwv1.Publication, error) {
	api := in.API(apiID)
	if api == nil {
		return nil, errorf("api %q: %w", apiID, ErrNotFound)
	}
	env := in.Env(envID)
	if env == nil {
		return nil, errorf("environment %q: %w", envID, ErrNotFound)
	}
	rec := proto.Clone(api).(*apigwv1.Api)
	rec.Meta = nil
	vars := in.EnvVars(api.GroupId, envID)
	var vs Violations
	resolve := func(field string, p *string, addr bool) {
		out, missing := ResolveEnvVars(*p, vars)
		for _, m := range missing {
			vs.Add(field, "variable #%s# is not defined for this group in environment %s", m, env.Name)
		}
		if len(missing) == 0 && addr && out != *p {
			if err := CheckHostPort(out); err != nil {
				vs.Add(field, "resolves to an invalid address: %v", err)
			}
		}
		*p = out
	}
	if b := rec.BackendApi; b != nil {
		resolve("backend_api.url_domain", &b.UrlDomain, true)
		resolve("backend_api.req_uri", &b.ReqUri, false)
	}
	for i, p := range rec.PolicyHttps {
		resolve(index("policy_https", i)+".url_domain", &p.UrlDomain, true)
		resolve(index("policy_https", i)+".req_uri", &p.ReqUri, false)
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	pub := &apigwv1.Publication{
		Id: pubID, ApiId: apiID, EnvId: envID, Version: version, Remark: remark,
		PublishTime: timestamppb.New(now), Api: rec,
	}
	for _, p := range in.PluginsFor(apiID, envID) {
		c := proto.Clone(p).(*apigwv1.Plugin)
		c.Meta = nil
		// History needs no secret (oidc_auth's client secret, kafka_log's
		// SASL password).
		c.ClientSecret, c.PluginSecret = "", ""
		pub.Plugins = append(pub.Plugins, c)
	}
	if pub.Version == "" {
		pub.Version = now.UTC().Format("20060102150405")
	}
	return pub, nil
}
