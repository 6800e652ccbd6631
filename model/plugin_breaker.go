package model

import (
	"errors"
	"strings"

	"github.com/apigw/apigw/model/matchexpr"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Breaker plug-in values (docs/plugins.md#breaker).
const (
	BreakerScopeBasic = "basic"
	BreakerScopeShare = "share"

	BreakerTypeTimeout   = "timeout"
	BreakerTypeCondition = "condition"

	BreakerModeCounter    = "counter"
	BreakerModePercentage = "percentage"

	DowngradeMock = "mock"

	// The $context values an unhealthy_condition may compare.
	BreakerStatusCode      = "$context.statusCode"
	BreakerBackendRespTime = "$context.backendResponseTime"

	// BreakerMaxSeconds bounds time_window and open_breaker_time.
	BreakerMaxSeconds = 3600
	// BreakerMaxMockHeaders bounds the headers of a mock downgrade.
	BreakerMaxMockHeaders = 10
)

// downgradeRefused are APIG's downgrade types apigw does not implement,
// with the reason given at write.
var downgradeRefused = map[string]string{
	"http":        "a downgrade to another HTTP backend is not supported by apigw (use mock, or no downgrade for 503)",
	"http_vpc":    "a downgrade to a VPC channel is not supported by apigw (use mock, or no downgrade for 503)",
	"func":        "a downgrade to a function is not supported by apigw (use mock, or no downgrade for 503)",
	"function":    "a downgrade to a function is not supported by apigw (use mock, or no downgrade for 503)",
	"passthrough": "a passthrough downgrade is not supported by apigw (use mock, or no downgrade for 503)",
}

// BreakerContentOf returns the content of a breaker plug-in (nil if it
// does not decode).
func BreakerContentOf(p *apigwv1.Plugin) *apigwv1.BreakerContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.BreakerContent)
	return c
}

// BreakerScope is the effective scope of a breaker content (basic when
// empty).
func BreakerScope(v *apigwv1.BreakerContent) string {
	if v.GetScope() == "" {
		return BreakerScopeBasic
	}
	return strings.ToLower(v.GetScope())
}

// BreakerMode is the effective mode of a condition (counter when empty).
func BreakerMode(v *apigwv1.PluginBreakerCondition) string {
	if v.GetBreakerMode() == "" {
		return BreakerModeCounter
	}
	return strings.ToLower(v.GetBreakerMode())
}

// ParseUnhealthyCondition parses a condition breaker's unhealthy_condition:
// a rule expression (model/matchexpr) naming only $context.statusCode and
// $context.backendResponseTime.
func ParseUnhealthyCondition(src string) (*matchexpr.Expr, error) {
	e, err := matchexpr.Parse(src)
	if err != nil {
		return nil, err
	}
	if err := e.CheckParams(func(n string) bool { return n == BreakerStatusCode || n == BreakerBackendRespTime }); err != nil {
		return nil, errors.New(err.Error() + " (only " + BreakerStatusCode + " and " + BreakerBackendRespTime + " can be compared)")
	}
	return e, nil
}

func validateBreaker(c checker, v *apigwv1.BreakerContent) {
	if v.Scope != "" {
		c.oneOf("scope", strings.ToLower(v.Scope), BreakerScopeBasic, BreakerScopeShare)
	}
	if v.BreakerCondition == nil {
		c.add("breaker_condition", "is required")
	} else {
		validateBreakerCondition(c.at("breaker_condition"), v.BreakerCondition)
	}
	if v.DowngradeDefault != nil {
		validateDowngrade(c.at("downgrade_default"), v.DowngradeDefault)
	}
	if len(v.DowngradeParameters) > 0 {
		c.add("downgrade_parameters", "downgrade rules and their parameters are not supported by apigw (leave empty)")
	}
	if len(v.DowngradeRules) > 0 {
		c.add("downgrade_rules", "downgrade rules are not supported by apigw: one condition and one downgrade (downgrade_default) apply to every request")
	}
}

func validateBreakerCondition(c checker, v *apigwv1.PluginBreakerCondition) {
	typ := strings.ToLower(v.BreakerType)
	if c.required("breaker_type", v.BreakerType) {
		c.oneOf("breaker_type", typ, BreakerTypeTimeout, BreakerTypeCondition)
	}
	switch {
	case typ == BreakerTypeCondition && c.required("unhealthy_condition", v.UnhealthyCondition):
		c.maxLen("unhealthy_condition", v.UnhealthyCondition, 1024)
		if _, err := ParseUnhealthyCondition(v.UnhealthyCondition); err != nil {
			c.add("unhealthy_condition", "%v", err)
		}
	case typ == BreakerTypeTimeout && v.UnhealthyCondition != "":
		c.add("unhealthy_condition", "must be empty for a timeout breaker (backend timeouts are the unhealthy calls)")
	}
	mode := BreakerMode(v)
	c.oneOf("breaker_mode", mode, BreakerModeCounter, BreakerModePercentage)
	switch mode {
	case BreakerModeCounter:
		c.rangeInt("unhealthy_threshold", int64(v.UnhealthyThreshold), 1, 2147483647)
	case BreakerModePercentage:
		c.rangeInt("min_call_threshold", int64(v.MinCallThreshold), 1, 2147483647)
		c.rangeInt("unhealthy_percentage", int64(v.UnhealthyPercentage), 1, 100)
	}
	c.rangeInt("time_window", int64(v.TimeWindow), 1, BreakerMaxSeconds)
	c.rangeInt("open_breaker_time", int64(v.OpenBreakerTime), 1, BreakerMaxSeconds)
}

func validateDowngrade(c checker, v *apigwv1.PluginBreakerDowngradeInfo) {
	typ := strings.ToLower(v.Type)
	if c.required("type", v.Type) {
		if why, ok := downgradeRefused[typ]; ok {
			c.add("type", "%s", why)
		} else {
			c.oneOf("type", typ, DowngradeMock)
		}
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"http_info", v.HttpInfo != nil}, {"http_vpc_info", v.HttpVpcInfo != nil}, {"func_info", v.FuncInfo != nil}, {"passthrough_infos", v.PassthroughInfos != nil}} {
		if f.set {
			c.add(f.name, "is not supported by apigw (only mock downgrades: leave it null)")
		}
	}
	if typ != DowngradeMock {
		return
	}
	m := v.MockInfo
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
