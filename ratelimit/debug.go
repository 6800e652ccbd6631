package ratelimit

import (
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/ratelimit/counter"
)

// debugHeaderPrefix starts APIG's debug headers
// (docs/apig-semantics.md#debug-headers):
// X-Apig-RateLimit-api, -user, -app, -ip, and -api-allenv for the
// instance default.
const debugHeaderPrefix = "X-Apig-RateLimit-"

// debugHeaders returns "remain:9,limit:10,time:1 minute" for each
// throttling limit of the request. Envoy adds them to every response.
func debugHeaders(checks []check, results []counter.Result) []*corev3.HeaderValue {
	var out []*corev3.HeaderValue
	for i := range checks {
		c := &checks[i]
		if c.unknown {
			continue // not counted
		}
		switch c.d.Dim {
		case dataplane.RateLimitDimAPI, dataplane.RateLimitDimUser, dataplane.RateLimitDimApp, dataplane.RateLimitDimIP:
		default:
			continue
		}
		name := debugHeaderPrefix + c.d.Dim
		if c.limit.Default {
			name += "-allenv"
		}
		l := c.limit
		v := "remain:" + strconv.FormatUint(results[i].Remaining(l.Requests), 10) +
			",limit:" + strconv.FormatUint(l.Requests, 10) +
			",time:" + strconv.Itoa(int(l.Interval)) + " " + strings.ToLower(l.Unit)
		out = append(out, &corev3.HeaderValue{Key: name, Value: v})
	}
	return out
}
