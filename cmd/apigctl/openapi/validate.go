package openapi

import (
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// placeholderGroup stands in for the group in local validation.
const placeholderGroup = "import-group"

// validate checks every resource the document describes against apigw's
// model (as the admin API will) and reports violations at the node that
// defined the resource.
func (c *converter) validate() {
	lim := model.InstanceLimits(model.EffectiveConfig(nil))
	check := func(p string, fields Nodes, m proto.Message) {
		m = proto.Clone(m)
		model.Normalize(m)
		for _, v := range model.Validate(m, lim) {
			c.ps.errorf(nodeOf(p, fields, v.Field), "%s", v.String())
		}
	}
	for _, a := range c.plan.Authorizers {
		check(a.Ptr, a.Fields, a.Msg)
	}
	for _, t := range c.plan.Throttles {
		check(t.Ptr, t.Fields, t.Msg)
	}
	for _, a := range c.plan.ACLs {
		check(a.Ptr, a.Fields, a.Msg)
	}
	for _, r := range c.plan.Responses {
		r2 := proto.Clone(r.Msg).(*apigwv1.GatewayResponse)
		r2.GroupId = placeholderGroup
		check(r.Ptr, r.Fields, r2)
	}
	for _, it := range c.plan.APIs {
		a := proto.Clone(it.API).(*apigwv1.Api)
		a.GroupId = placeholderGroup
		model.Normalize(a)
		for _, v := range model.Validate(a, lim) {
			if v.Field == "name" {
				c.ps.errorf(ptr(it.Ptr, "operationId"), "%s", v.Description)
				continue
			}
			c.ps.errorf(nodeOf(it.Ptr, it.Fields, v.Field), "%s", v.String())
		}
	}
	// Violations of fields the converter never sets are noise: drop
	// "group_id is required" style messages of placeholders.
	var keep []Problem
	for _, p := range c.ps.Errors {
		if !strings.Contains(p.Message, placeholderGroup) {
			keep = append(keep, p)
		}
	}
	c.ps.Errors = keep
}
