// Package openapi converts Swagger 2.0 and OpenAPI 3.0/3.1 documents with
// Huawei APIG x-apigateway-* extensions into apigw resources (import) and
// back (export). Documents are parsed with kin-openapi; the extensions are
// decoded here, every problem named by its JSON pointer.
package openapi

import (
	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Plan is what a document describes, before it is matched with what is
// stored.
type Plan struct {
	// Version is the document's swagger/openapi version.
	Version string
	// GroupName is info.title; GroupRemark info.description.
	GroupName   string
	GroupRemark string
	Authorizers []Item[*apigwv1.Authorizer]
	Throttles   []Item[*apigwv1.Throttle]
	ACLs        []Item[*apigwv1.Acl]
	Responses   []Item[*apigwv1.GatewayResponse]
	Plugins     []Item[*apigwv1.Plugin]
	APIs        []*APIItem
	// AppSpecials are the app ids named by throttling specials, with the
	// node of each special: Import warns about those naming no app.
	AppSpecials []Item[string]
}

// Item is a resource and the pointer of the node that defines it.
type Item[T any] struct {
	Ptr string
	Msg T
	// Fields are the nodes its fields were read from.
	Fields Nodes
}

// APIItem is an API with the policies the operation binds by name.
type APIItem struct {
	Ptr string
	API *apigwv1.Api
	// Fields are the nodes the API's fields were read from.
	Fields      Nodes
	Throttle    string
	ThrottlePtr string
	ACL         string
	ACLPtr      string
	// Plugins are the plug-ins bound by name, each with its list entry.
	Plugins []Item[string]
}

// Resources returns the plan as apigw resources that reference each other
// by name: the group, authorizers, policies, response sets, APIs and the
// policy bindings in env. Applied with `apigctl apply`, they create what
// an import creates (without its conflict handling).
func (p *Plan) Resources(group, env string) []*apigwv1.Resource {
	if group == "" {
		group = p.GroupName
	}
	var out []*apigwv1.Resource
	add := func(m proto.Message) { out = append(out, model.Wrap(m)) }
	add(&apigwv1.ApiGroup{Name: group, Remark: p.GroupRemark})
	for _, a := range p.Authorizers {
		add(a.Msg)
	}
	for _, t := range p.Throttles {
		add(t.Msg)
	}
	for _, a := range p.ACLs {
		add(a.Msg)
	}
	for _, pl := range p.Plugins {
		add(pl.Msg)
	}
	for _, r := range p.Responses {
		m := proto.Clone(r.Msg).(*apigwv1.GatewayResponse)
		m.GroupId = group
		add(m)
	}
	var bindings []proto.Message
	for _, it := range p.APIs {
		a := proto.Clone(it.API).(*apigwv1.Api)
		a.GroupId = group
		add(a)
		if it.Throttle != "" {
			bindings = append(bindings, &apigwv1.ThrottleBinding{ApiId: a.Name, EnvId: env, StrategyId: it.Throttle})
		}
		if it.ACL != "" {
			bindings = append(bindings, &apigwv1.AclBinding{ApiId: a.Name, EnvId: env, AclId: it.ACL})
		}
		for _, pl := range it.Plugins {
			bindings = append(bindings, &apigwv1.PluginBinding{ApiId: a.Name, EnvId: env, PluginId: pl.Msg})
		}
	}
	for _, b := range bindings {
		add(b)
	}
	return out
}
