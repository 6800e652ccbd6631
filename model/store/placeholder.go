package store

import (
	"encoding/json"

	"github.com/apigw/apigw/model"
)

// placeholderOf is the placeholder of a stored value that cannot be used.
// For throttling, ACL, signature-key and plug-in bindings it reads the API and environment from
// the value leniently, so that only that API is held closed when they can
// be told.
func placeholderOf(pk ParsedKey, value []byte, reason string) model.Placeholder {
	p := model.Placeholder{Kind: pk.Kind.Name, ID: pk.ID, Reason: reason}
	if pk.Kind.Name != model.KindThrottleBinding && pk.Kind.Name != model.KindACLBinding && pk.Kind.Name != model.KindSignBinding && pk.Kind.Name != model.KindPluginBinding {
		return p
	}
	var v map[string]any
	if json.Unmarshal(value, &v) != nil {
		return p
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if s, ok := v[k].(string); ok && s != "" {
				return s
			}
		}
		return ""
	}
	p.APIID, p.EnvID = str("api_id", "apiId"), str("env_id", "envId")
	return p
}
