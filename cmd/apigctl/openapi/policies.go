package openapi

import (
	"fmt"
	"strings"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// ratelimits decodes x-apigateway-ratelimits
// (docs/apig-semantics.md#openapi-extensions).
func (c *converter) ratelimits(p string, v any) {
	c.namedObjects(p, v, func(name string, po *obj) {
		t := &apigwv1.Throttle{Name: name, TimeUnit: po.enum([]string{"unit"}, model.UnitSecond, model.UnitMinute, model.UnitHour, model.UnitDay)}
		c.nodes = Nodes{}
		c.recKeys("", po, keys("api_call_limits", "api-limit"), keys("user_call_limits", "user-limit"), keys("app_call_limits", "app-limit"),
			keys("ip_call_limits", "ip-limit"), keys("time_interval", "interval"), keys("time_unit", "unit"), keys("type", "shared"),
			keys("remark", "description", "remark"), keys("specials", "special", "specials"))
		if n, ok := po.num("api-limit"); ok {
			t.ApiCallLimits = int32(n)
		} else {
			c.ps.errorf(po.ptr, "api-limit is required")
		}
		if n, ok := po.num("user-limit"); ok {
			t.UserCallLimits = int32(n)
		}
		if n, ok := po.num("app-limit"); ok {
			t.AppCallLimits = int32(n)
		}
		if n, ok := po.num("ip-limit"); ok {
			t.IpCallLimits = int32(n)
		}
		if n, ok := po.num("interval"); ok {
			t.TimeInterval = int32(n)
		} else {
			c.ps.errorf(po.ptr, "interval is required")
		}
		if t.TimeUnit == "" {
			c.ps.errorf(po.ptr, "unit is required: SECOND, MINUTE, HOUR or DAY")
		}
		t.Type = model.ThrottleExclusive
		if b, ok := po.boolean("shared"); ok && b {
			t.Type = model.ThrottleShared
		}
		t.Remark = po.str("description", "remark")
		sl, sp := po.list("special", "specials")
		for i, sv := range sl {
			so, ok := asObj(c.ps, ptr(sp, i), sv)
			if !ok {
				continue
			}
			s := &apigwv1.ThrottleSpecial{ObjectType: so.enum([]string{"type"}, model.SpecialApp, model.SpecialUser), ObjectId: so.str("instance")}
			c.recKeys(fmt.Sprintf("specials[%d]", len(t.Specials)), so, keys("object_type", "type"), keys("object_id", "instance"), keys("call_limits", "limit"))
			if n, ok := so.num("limit"); ok {
				s.CallLimits = int32(n)
			}
			so.unknown("a special throttle")
			t.Specials = append(t.Specials, s)
			if s.ObjectType == model.SpecialApp && s.ObjectId != "" {
				c.plan.AppSpecials = append(c.plan.AppSpecials, Item[string]{Ptr: so.ptr, Msg: s.ObjectId})
			}
		}
		po.unknown("a throttling policy")
		c.plan.Throttles = append(c.plan.Throttles, Item[*apigwv1.Throttle]{Ptr: po.ptr, Msg: t, Fields: c.nodes})
		c.nodes = nil
	})
}

// accessControls decodes x-apigateway-access-controls
// (docs/apig-semantics.md#openapi-extensions).
func (c *converter) accessControls(p string, v any) {
	c.namedObjects(p, v, func(name string, po *obj) {
		c.nodes = Nodes{}
		c.recKeys("", po, keys("acl_type", "acl-type"), keys("entity_type", "entity-type"), keys("acl_value", "value"), keys("remark", "description", "remark"))
		a := &apigwv1.Acl{AclName: name,
			AclType:    po.enum([]string{"acl-type"}, model.ACLPermit, model.ACLDeny),
			EntityType: po.enum([]string{"entity-type"}, model.EntityIP, model.EntityDomain, model.EntityDomainID),
			AclValue:   po.str("value"), Remark: po.str("description", "remark")}
		if a.EntityType == "" {
			a.EntityType = model.EntityIP
		}
		po.unknown("an access-control policy")
		c.plan.ACLs = append(c.plan.ACLs, Item[*apigwv1.Acl]{Ptr: po.ptr, Msg: a, Fields: c.nodes})
		c.nodes = nil
	})
}

// responses decodes x-apigateway-responses
// (docs/apig-semantics.md#openapi-extensions): sets of
// gateway responses by type.
func (c *converter) responses(p string, v any) {
	c.namedObjects(p, v, func(name string, so *obj) {
		set := c.responseSets[name]
		if set == nil {
			set = &apigwv1.GatewayResponse{Name: name, Responses: map[string]*apigwv1.ResponseInfo{}}
			c.responseSets[name] = set
			c.plan.Responses = append(c.plan.Responses, Item[*apigwv1.GatewayResponse]{Ptr: so.ptr, Msg: set, Fields: Nodes{}})
		}
		var fields Nodes
		for _, it := range c.plan.Responses {
			if it.Msg == set {
				fields = it.Fields
			}
		}
		for _, typ := range sortedKeys(so.m) {
			so.used[typ] = true
			tp := ptr(so.ptr, typ)
			if _, known := model.ResponseType(strings.ToUpper(typ)); !known {
				c.ps.errorf(tp, "unknown gateway response type")
				continue
			}
			ro, ok := asObj(c.ps, tp, so.m[typ])
			if !ok {
				continue
			}
			ri := &apigwv1.ResponseInfo{}
			f := "responses." + strings.ToUpper(typ)
			fields.set(f, tp)
			for _, k := range []string{"status", "body", "headers"} {
				if _, _, ok := ro.lookup(k); ok {
					fields.set(f+"."+k, ro.at(k))
				}
			}
			if n, ok := ro.num("status"); ok {
				ri.Status = int32(n)
			}
			if _, b, ok := ro.key("body"); ok {
				switch x := b.(type) {
				case string:
					ri.Body = x
				case map[string]any:
					for _, mt := range sortedKeys(x) {
						if s, ok := x[mt].(string); ok && (ri.Body == "" || mt == "application/json") {
							ri.Body = s
						}
					}
				default:
					c.ps.errorf(ptr(tp, "body"), "must be a template or a map of media type to template")
				}
			}
			if hm := ro.object("headers"); hm != nil {
				for _, k := range sortedKeys(hm.m) {
					hm.used[k] = true
					ri.Headers = append(ri.Headers, &apigwv1.ResponseHeader{Key: k, Value: scalar(hm.m[k])})
				}
			}
			ro.unknown("a gateway response")
			set.Responses[strings.ToUpper(typ)] = ri
		}
	})
}
