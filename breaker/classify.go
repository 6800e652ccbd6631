package breaker

import (
	"strconv"
	"time"

	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

// Call is the result of one request of an API, as the access-log stream
// reports it (the access-log service's records are converted by package
// breaker/alsink, so that ext_authz, which reads the breakers, does not
// depend on the access-log service).
type Call struct {
	// Instance, API and Env name what the request hit.
	Instance, API, Env string
	// Status is the HTTP status sent to the client (0: none).
	Status int
	// ErrorCode is the APIG error of the response ("" for none).
	ErrorCode string
	// Flags are Envoy's response flags (short names: UT, UF, ...).
	Flags []string
	// Denied and Throttled: refused by ext_authz (including the answers of
	// an open breaker) or by the rate-limit service.
	Denied, Throttled bool
	// Duration is the gateway time; Upstream the backend time, when
	// HasUpstream.
	Duration, Upstream time.Duration
	HasUpstream        bool
	// Rule is the downgrade rule ext_authz matched ("" for none);
	// Downgraded: the call went to an open breaker's http downgrade.
	Rule       string
	Downgraded bool
}

// backendCall reports whether a call was sent to the backend: not denied
// by ext_authz (which includes the answers of an open breaker), not sent
// to an http downgrade, not throttled, and either timed by Envoy's upstream timers or failed on the
// way to the backend (timeout, connection failure or reset, retries
// exhausted, no healthy host).
func (c *Call) backendCall() bool {
	if c.Denied || c.Throttled || c.Downgraded {
		return false
	}
	return c.HasUpstream || c.timedOut() || c.hasFlag("UF", "URX", "UH", "UC", "UR")
}

// timedOut reports a backend timeout: Envoy's upstream request timeout.
func (c *Call) timedOut() bool {
	return c.ErrorCode == gwresp.ErrBackendTimeout.Code || c.hasFlag("UT")
}

func (c *Call) hasFlag(names ...string) bool {
	for _, f := range c.Flags {
		for _, n := range names {
			if f == n {
				return true
			}
		}
	}
	return false
}

// Unhealthy classifies a backend call by a breaker's condition.
func (cfg *Config) Unhealthy(c *Call) bool {
	if cfg.Timeout {
		return c.timedOut()
	}
	p := callParams{status: c.Status, backend: -1}
	switch {
	case c.HasUpstream:
		p.backend = c.Upstream.Milliseconds()
	case c.timedOut():
		p.backend = c.Duration.Milliseconds()
	}
	return cfg.Cond.Eval(p)
}

// callParams are the $context values of a condition breaker: the status
// sent to the client and the backend time in milliseconds (the gateway
// time of a call that timed out before Envoy timed the backend; -1 when
// neither is known).
type callParams struct {
	status  int
	backend int64
}

func (p callParams) Param(name string) (string, bool) {
	switch name {
	case model.BreakerStatusCode:
		if p.status == 0 {
			return "", false
		}
		return strconv.Itoa(p.status), true
	case model.BreakerBackendRespTime:
		if p.backend >= 0 {
			return strconv.FormatInt(p.backend, 10), true
		}
	}
	return "", false
}
