// Package alsink feeds the breakers of breaker plug-ins from the
// access-log stream: it is the accesslog.Sink that converts each record
// into a breaker.Call. It sits apart from package breaker so that
// ext_authz, which reads the breakers, does not depend on the access-log
// service (the request-time services share only package dataplane).
package alsink

import (
	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/breaker"
)

// Sink feeds a registry.
type Sink struct{ Registry *breaker.Registry }

var _ accesslog.Sink = Sink{}

// Add converts a record and feeds it to the breakers.
func (s Sink) Add(r *accesslog.Record) {
	if r.API == "" {
		return
	}
	c := breaker.Call{
		Instance: r.Instance, API: r.API, Env: r.Env, Status: r.Status, ErrorCode: r.ErrorCode, Flags: r.Flags,
		Denied: r.Denied, Throttled: r.Throttled, Duration: r.Duration, Upstream: r.Upstream, HasUpstream: r.HasUpstream,
		Rule: r.BreakerRule, Downgraded: r.BreakerDowngraded,
	}
	s.Registry.Add(&c)
}
