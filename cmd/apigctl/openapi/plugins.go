package openapi

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Plug-ins in documents (docs/plugins.md#openapi):
//
//   - an operation's x-apigateway-plugins is APIG's list of plug-in names
//     bound to the API (in the import's environment);
//   - apigw also writes, at the root (components in OpenAPI 3), an
//     x-apigateway-plugins map of name → {type, scope, content, remark}
//     with the definitions of the plug-ins the operations name, so that an
//     export imports elsewhere without loss. A name an operation lists must
//     be defined there or exist on the instance; otherwise the Apply refuses
//     the binding, reported at the list entry's JSON pointer;
//   - the client_secret of an oidc_auth content moves to the plug-in's
//     write-only client_secret field on import and is never exported: an
//     export re-imports into the same instance (the stored secret is
//     kept); elsewhere add client_secret to the content.

// pluginDefs decodes the root x-apigateway-plugins map.
func (c *converter) pluginDefs(p string, v any) {
	c.namedObjects(p, v, func(name string, po *obj) {
		pl := &apigwv1.Plugin{PluginName: name, PluginType: po.str("type", "plugin_type"), PluginScope: po.str("scope", "plugin_scope"),
			Remark: po.str("description", "remark")}
		if k, content, ok := po.key("content", "plugin_content"); ok {
			switch x := content.(type) {
			case string:
				pl.PluginContent = x
			case map[string]any:
				b, _ := json.Marshal(x)
				pl.PluginContent = string(b)
			default:
				c.ps.errorf(ptr(po.ptr, k), "must be the plug-in's JSON content, as a string or an object (got %s)", typeName(content))
			}
		}
		if pl.PluginType == model.PluginOIDCAuth {
			pl.PluginContent, pl.ClientSecret = splitClientSecret(pl.PluginContent)
		}
		if pl.PluginType == "" {
			c.ps.errorf(po.ptr, "type is required")
		}
		if pl.PluginScope == "" {
			pl.PluginScope = model.PluginScopeGlobal
		}
		po.unknown("a plug-in")
		c.plan.Plugins = append(c.plan.Plugins, Item[*apigwv1.Plugin]{Ptr: po.ptr, Msg: pl})
	})
}

// splitClientSecret moves the client_secret of an oidc_auth content (as
// APIG documents carry it) out of the content: apigw keeps it in the
// plug-in's write-only client_secret field, sealed at rest and never
// exported. A content that does not decode, or whose client_secret is not
// a string, is left for validation to refuse.
func splitClientSecret(content string) (string, string) {
	var m map[string]any
	if json.Unmarshal([]byte(content), &m) != nil {
		return content, ""
	}
	secret, ok := m["client_secret"].(string)
	if !ok {
		return content, ""
	}
	delete(m, "client_secret")
	b, err := json.Marshal(m)
	if err != nil {
		return content, ""
	}
	return string(b), secret
}

// pluginRefs decodes an operation's x-apigateway-plugins list of names.
func (c *converter) pluginRefs(p string, v any, it *APIItem) {
	l, ok := v.([]any)
	if !ok {
		c.ps.errorf(p, "must be a list of plug-in names (got %s)", typeName(v))
		return
	}
	for i, e := range l {
		name := c.policyName(ptr(p, i), e)
		if name == "" {
			continue
		}
		it.Plugins = append(it.Plugins, Item[string]{Ptr: ptr(p, i), Msg: name})
	}
}

// lookupPlugins gathers the plug-ins bound to an API in the exported
// environment.
func (x *exported) lookupPlugins(ctx context.Context, c adminv1.AdminServiceClient, in, envID, apiID string) error {
	pb, err := c.List(ctx, &adminv1.ListRequest{Instance: in, Kind: model.KindPluginBinding, ApiId: apiID, EnvId: envID})
	if err != nil {
		return err
	}
	for _, b := range pb.GetResources() {
		id := b.GetPluginBinding().GetPluginId()
		if x.plugins[id] == nil {
			res, err := c.Get(ctx, &adminv1.GetRequest{Instance: in, Kind: model.KindPlugin, Id: id})
			if err != nil {
				return err
			}
			x.plugins[id] = res.GetResource().GetPlugin()
		}
		x.pluginsOf[apiID] = append(x.pluginsOf[apiID], x.plugins[id].PluginName)
	}
	sort.Strings(x.pluginsOf[apiID])
	return nil
}

// pluginsExt is the root x-apigateway-plugins map of an export.
func (x *exported) pluginsExt(ext map[string]any) {
	if len(x.plugins) == 0 {
		return
	}
	m := map[string]any{}
	for _, p := range x.plugins {
		d := map[string]any{"type": p.PluginType, "scope": p.PluginScope, "content": p.PluginContent}
		setStr(d, "remark", p.Remark)
		m[p.PluginName] = d
	}
	ext[extPlugins] = m
}

// opPlugins adds an operation's x-apigateway-plugins list.
func (x *exported) opPlugins(ext map[string]any, apiID string) {
	if names := x.pluginsOf[apiID]; len(names) > 0 {
		l := make([]any, len(names))
		for i, n := range names {
			l[i] = n
		}
		ext[extPlugins] = l
	}
}
