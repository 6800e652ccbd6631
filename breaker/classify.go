package breaker

import (
	"strconv"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

// backendCall reports whether an access-log entry is the result of a call
// to the backend: not denied by ext_authz (which includes the answers of
// an open breaker) nor throttled, and either timed by Envoy's upstream
// timers or failed on the way to the backend (timeout, connection
// failure, retries exhausted, no healthy host).
func backendCall(r *accesslog.Record) bool {
	if r.Denied || r.Throttled {
		return false
	}
	return r.HasUpstream || timedOut(r) || hasFlag(r, "UF", "URX", "UH", "UC", "UR")
}

// timedOut reports a backend timeout: Envoy's upstream request timeout.
func timedOut(r *accesslog.Record) bool {
	return r.ErrorCode == gwresp.ErrBackendTimeout.Code || hasFlag(r, "UT")
}

func hasFlag(r *accesslog.Record, names ...string) bool {
	for _, f := range r.Flags {
		for _, n := range names {
			if f == n {
				return true
			}
		}
	}
	return false
}

// Unhealthy classifies a backend call by a breaker's condition.
func (c *Config) Unhealthy(r *accesslog.Record) bool {
	if c.Timeout {
		return timedOut(r)
	}
	return c.Cond.Eval(recordParams{r})
}

// recordParams are the $context values of a condition breaker: the status
// sent to the client and the backend time in milliseconds (the gateway
// time of a call that timed out before Envoy timed the backend; missing
// when neither is known).
type recordParams struct{ r *accesslog.Record }

func (p recordParams) Param(name string) (string, bool) {
	switch name {
	case model.BreakerStatusCode:
		if p.r.Status == 0 {
			return "", false
		}
		return strconv.Itoa(p.r.Status), true
	case model.BreakerBackendRespTime:
		switch {
		case p.r.HasUpstream:
			return strconv.FormatInt(p.r.Upstream.Milliseconds(), 10), true
		case timedOut(p.r):
			return strconv.FormatInt(p.r.Duration.Milliseconds(), 10), true
		}
	}
	return "", false
}
