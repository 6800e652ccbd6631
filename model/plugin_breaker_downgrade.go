package model

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Downgrade types of a breaker plug-in (docs/plugins.md#breaker). APIG
// spells the function downgrade func or function; DowngradeKind gives
// one name per kind.
const (
	DowngradeMock        = "mock"
	DowngradeHTTP        = "http"
	DowngradeHTTPVPC     = "http_vpc"
	DowngradeFunc        = "func"
	DowngradeFunction    = "function"
	DowngradePassthrough = "passthrough"

	// BreakerMaxPassthroughHeaders bounds the headers of a passthrough
	// downgrade.
	BreakerMaxPassthroughHeaders = 10
)

// DowngradeKind is what a downgrade does: mock, http (an address),
// http_vpc (a load balance channel: type http_vpc, or http with isVpc),
// func (type func or function), passthrough, or "" (none: 503).
func DowngradeKind(d *apigwv1.PluginBreakerDowngradeInfo) string {
	switch t := strings.ToLower(d.GetType()); t {
	case DowngradeHTTP:
		if d.GetHttpInfo().GetIsVpc() {
			return DowngradeHTTPVPC
		}
		return t
	case DowngradeFunction:
		return DowngradeFunc
	case DowngradeMock, DowngradeHTTPVPC, DowngradeFunc, DowngradePassthrough:
		return t
	}
	return ""
}

// BreakerDowngradeHTTP returns the backend of an http or http_vpc
// downgrade: http_info, or for type http_vpc its http_vpc_info (apigw's
// schema: PluginBreakerHttpInfo's vpc_channel_id, scheme, method, path
// and timeout), and the field it came from.
func BreakerDowngradeHTTP(d *apigwv1.PluginBreakerDowngradeInfo) (*apigwv1.PluginBreakerHttpInfo, string, error) {
	if strings.ToLower(d.GetType()) != DowngradeHTTPVPC {
		return d.GetHttpInfo(), "http_info", nil
	}
	if d.GetHttpVpcInfo() == nil {
		// An http_vpc downgrade may carry its channel in http_info, as
		// type http with isVpc does.
		if h := d.GetHttpInfo(); h != nil {
			return h, "http_info", nil
		}
		return nil, "http_vpc_info", nil
	}
	h := &apigwv1.PluginBreakerHttpInfo{}
	if err := structInto(d.GetHttpVpcInfo(), h); err != nil {
		return nil, "http_vpc_info", err
	}
	return h, "http_vpc_info", nil
}

// BreakerDowngradeFunc returns the function of a func downgrade
// (func_info, apigw's schema: function_urn, version or alias_urn,
// invocation_type, network_type, timeout as a FUNCTION backend's).
func BreakerDowngradeFunc(d *apigwv1.PluginBreakerDowngradeInfo) (*apigwv1.FuncInfo, error) {
	if d.GetFuncInfo() == nil {
		return nil, nil
	}
	f := &apigwv1.FuncInfo{}
	if err := structInto(d.GetFuncInfo(), f); err != nil {
		return nil, err
	}
	if f.InvocationType == "" {
		f.InvocationType = "sync"
	}
	if f.NetworkType == "" {
		f.NetworkType = "V1"
	}
	if f.Timeout == 0 {
		f.Timeout = BreakerDowngradeTimeout
	}
	return f, nil
}

// BreakerPassthroughHeaders returns the headers a passthrough downgrade
// adds to the request it passes to the API's own backend
// (passthrough_infos: objects {key, value}, or {name, value}).
func BreakerPassthroughHeaders(d *apigwv1.PluginBreakerDowngradeInfo) ([]*apigwv1.MockHeader, error) {
	list := d.GetPassthroughInfos().GetValues()
	out := make([]*apigwv1.MockHeader, 0, len(list))
	for i, e := range list {
		s := e.GetStructValue()
		if s == nil {
			return nil, &indexError{i, "must be a header {key, value}"}
		}
		h := &apigwv1.MockHeader{}
		for k, v := range s.GetFields() {
			sv, isStr := v.GetKind().(*structpb.Value_StringValue)
			switch {
			case (k == "key" || k == "name") && isStr:
				if h.Key != "" {
					return nil, &indexError{i, "has both key and name"}
				}
				h.Key = sv.StringValue
			case k == "value" && isStr:
				h.Value = sv.StringValue
			case k == "key" || k == "name" || k == "value":
				return nil, &indexError{i, k + " must be a string"}
			default:
				return nil, &indexError{i, "unknown field " + k + " (a header is {key, value})"}
			}
		}
		out = append(out, h)
	}
	return out, nil
}

type indexError struct {
	index int
	msg   string
}

func (e *indexError) Error() string { return fmt.Sprintf("[%d]: %s", e.index, e.msg) }

// structInto decodes a Struct field into the message of its schema
// (unknown fields are refused).
func structInto(s *structpb.Struct, m proto.Message) error {
	b, err := protojson.Marshal(s)
	if err != nil {
		return err
	}
	if err := protojson.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "proto: "))
	}
	return nil
}

func validateDowngrade(c checker, v *apigwv1.PluginBreakerDowngradeInfo, lim Limits) {
	kind := DowngradeKind(v)
	if c.required("type", v.Type) && kind == "" {
		c.add("type", "must be one of mock, http, http_vpc, func (or function), passthrough (got %q)", v.Type)
	}
	// The information of another kind does nothing: refused unless null
	// (or empty).
	for _, f := range []struct {
		name, kind string
		set        bool
	}{{"http_vpc_info", DowngradeHTTPVPC, len(v.HttpVpcInfo.GetFields()) > 0}, {"func_info", DowngradeFunc, len(v.FuncInfo.GetFields()) > 0},
		{"passthrough_infos", DowngradePassthrough, len(v.PassthroughInfos.GetValues()) > 0}} {
		if f.set && kind != f.kind && kind != "" {
			c.add(f.name, "is only used by a %s downgrade (type is %s): leave it null", f.kind, v.Type)
		}
	}
	switch kind {
	case DowngradeHTTP, DowngradeHTTPVPC:
		h, field, err := BreakerDowngradeHTTP(v)
		if err != nil {
			c.add(field, "is not a channel backend {vpc_channel_id, scheme, method, path, timeout}: %v", err)
			return
		}
		if kind == DowngradeHTTPVPC && field == "http_info" && h != nil && !h.IsVpc {
			c.add("http_info.isVpc", "must be true when an http_vpc downgrade gives its channel in http_info")
		}
		validateDowngradeHTTP(c, field, h, kind == DowngradeHTTPVPC, lim)
	case DowngradeFunc:
		validateDowngradeFunc(c, v, lim)
	case DowngradePassthrough:
		validateDowngradePassthrough(c, v)
	case DowngradeMock:
		validateDowngradeMock(c, v.MockInfo)
	}
}

func validateDowngradeFunc(c checker, v *apigwv1.PluginBreakerDowngradeInfo, lim Limits) {
	f, err := BreakerDowngradeFunc(v)
	switch {
	case err != nil:
		c.add("func_info", "is not a function backend {function_urn, version, alias_urn, invocation_type, network_type, timeout}: %v", err)
		return
	case f == nil:
		c.add("func_info", "is required for a func downgrade")
		return
	}
	fc := c.at("func_info")
	validateFunction(fc, f.FunctionUrn, f.InvocationType, f.NetworkType, f.Timeout, lim)
	for _, x := range []struct{ name, val string }{{"id", f.Id}, {"req_protocol", f.ReqProtocol}, {"authorizer_id", f.AuthorizerId}} {
		if x.val != "" {
			fc.add(x.name, "is not used by a func downgrade (the function is called without a backend authorizer): leave it out")
		}
	}
	if f.Version != "" && f.AliasUrn != "" {
		fc.add("alias_urn", "give version or alias_urn, not both")
	}
}

func validateDowngradePassthrough(c checker, v *apigwv1.PluginBreakerDowngradeInfo) {
	hs, err := BreakerPassthroughHeaders(v)
	if err != nil {
		c.add("passthrough_infos", "%v", err)
		return
	}
	if len(hs) > BreakerMaxPassthroughHeaders {
		c.add("passthrough_infos", "at most %d headers (got %d)", BreakerMaxPassthroughHeaders, len(hs))
	}
	seen := map[string]bool{}
	for i, h := range hs {
		hc := c.idx("passthrough_infos", i)
		if !hc.required("key", h.Key) {
			continue
		}
		l := strings.ToLower(h.Key)
		switch {
		case !ValidHeaderName(h.Key):
			hc.add("key", "%q is not a header name", h.Key)
		case gatewayHeader(h.Key) || strings.HasPrefix(l, "x-apigw-") || l == "host" || l == "content-length" || l == "transfer-encoding" || l == "connection" || l == "authorization" || l == "x-stage":
			hc.add("key", "%s is set by the gateway or the client and cannot be changed", h.Key)
		case seen[l]:
			hc.add("key", "%s is listed twice", h.Key)
		}
		seen[l] = true
		hc.maxLen("value", h.Value, 1024)
		checkWire(hc, "value", h.Value)
	}
}

func validateDowngradeMock(c checker, m *apigwv1.PluginBreakerMockInfo) {
	if m == nil {
		c.add("mock_info", "is required for a mock downgrade")
		return
	}
	mc := c.at("mock_info")
	if m.StatusCode != 0 {
		mc.rangeInt("status_code", int64(m.StatusCode), 200, 599)
	}
	mc.maxLen("result_content", m.ResultContent, 65535)
	if len(m.Headers) > BreakerMaxMockHeaders {
		mc.add("headers", "at most %d headers (got %d)", BreakerMaxMockHeaders, len(m.Headers))
	}
	for i, h := range m.Headers {
		hc := mc.idx("headers", i)
		if hc.required("key", h.Key) {
			switch {
			case !ValidHeaderName(h.Key):
				hc.add("key", "%q is not a header name", h.Key)
			case gatewayHeader(h.Key) || strings.EqualFold(h.Key, "content-length"):
				hc.add("key", "%s is set by the gateway and cannot be changed", h.Key)
			}
		}
		hc.maxLen("value", h.Value, 1024)
		checkWire(hc, "value", h.Value)
	}
}

// checkBreakerRefs refuses a breaker plug-in whose http_vpc downgrade
// names a load balance channel the instance does not have (by id), or
// whose func downgrade calls a function the instance's registry does not
// serve.
func (in *Instance) checkBreakerRefs(c checker, p *apigwv1.Plugin) {
	v := BreakerContentOf(p)
	if v == nil {
		return
	}
	BreakerDowngrades(v, func(field, _ string, d *apigwv1.PluginBreakerDowngradeInfo) {
		switch DowngradeKind(d) {
		case DowngradeHTTPVPC:
			h, hf, err := BreakerDowngradeHTTP(d)
			if err == nil && h != nil && h.VpcChannelId != "" && in.Channel(h.VpcChannelId) == nil {
				c.add(join("plugin_content", field+"."+hf+".vpc_channel_id"), "load balance channel %q does not exist (give its id)", h.VpcChannelId)
			}
		case DowngradeFunc:
			f, err := BreakerDowngradeFunc(d)
			if err == nil && f != nil && f.FunctionUrn != "" && ResolveFunction(in.Config, f.FunctionUrn, f.Version, f.AliasUrn) == nil {
				c.add(join("plugin_content", field+".func_info.function_urn"), "function %s is not in the instance's function registry (instance config.functions: %s)", f.FunctionUrn, strings.Join(FunctionKeys(f.FunctionUrn, f.Version, f.AliasUrn), " or "))
			}
		}
	})
}

// breakerChannelUsers lists the breaker plug-ins whose http_vpc
// downgrades call the channel id while it does not exist in this view
// (it is being deleted). Plug-in contents are not indexed, so this scans
// the breaker plug-ins when a channel is deleted.
func (in *Instance) breakerChannelUsers(id string) []Referrer {
	if in.Channel(id) != nil {
		return nil
	}
	var out []Referrer
	in.breakerDowngradesOfKind(DowngradeHTTPVPC, func(p *apigwv1.Plugin, field string, d *apigwv1.PluginBreakerDowngradeInfo) {
		if h, hf, err := BreakerDowngradeHTTP(d); err == nil && h.GetVpcChannelId() == id {
			out = append(out, Referrer{Kind: KindPlugin, ID: p.Id, Field: "plugin_content." + field + "." + hf + ".vpc_channel_id"})
		}
	})
	return out
}

// breakerDowngradesOfKind calls fn for every downgrade of one kind in the
// instance's breaker plug-ins, with its field path in the content.
func (in *Instance) breakerDowngradesOfKind(kind string, fn func(p *apigwv1.Plugin, field string, d *apigwv1.PluginBreakerDowngradeInfo)) {
	for _, p := range List[*apigwv1.Plugin](in, KindPlugin) {
		if p.PluginType != PluginBreaker {
			continue
		}
		BreakerDowngrades(BreakerContentOf(p), func(field, _ string, d *apigwv1.PluginBreakerDowngradeInfo) {
			if DowngradeKind(d) == kind {
				fn(p, field, d)
			}
		})
	}
}

// breakerFunctionsUsed refuses an instance definition whose function
// registry no longer serves a function a breaker plug-in's func
// downgrade calls.
func (in *Instance) breakerFunctionsUsed(c checker, def *apigwv1.Instance) {
	in.breakerDowngradesOfKind(DowngradeFunc, func(p *apigwv1.Plugin, field string, d *apigwv1.PluginBreakerDowngradeInfo) {
		if f, err := BreakerDowngradeFunc(d); err == nil && f != nil && ResolveFunction(def.GetConfig(), f.FunctionUrn, f.Version, f.AliasUrn) == nil {
			c.add("config.functions", "must serve function %s: breaker plug-in %s (%s) calls it (plugin_content.%s.func_info)", f.FunctionUrn, p.Id, p.PluginName, field)
		}
	})
}
