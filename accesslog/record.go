package accesslog

import (
	"net"
	"strconv"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model/gwresp"
)

// Record is what apigw keeps of one access-log entry.
type Record struct {
	// Instance, Group, API, APIName and Env name what the request hit
	// (from the route's custom tags, else ext_authz's metadata; Instance
	// falls back to the Envoy's node.cluster). API is "" for requests
	// that matched no API.
	Instance, Group, API, APIName, Env string
	// App and User are the authenticated app and the caller's account
	// (ext_authz's dynamic metadata).
	App, User string
	// Status is the HTTP status sent to the client (0 if none was sent).
	Status int
	// ErrorCode is the APIG error of the response ("" for a response
	// that is not an APIG error).
	ErrorCode string
	// Flags are Envoy's response flags (short names).
	Flags []string
	// Denied is a denial by ext_authz; Throttled one by the rate-limit
	// service.
	Denied, Throttled bool
	Start             time.Time
	// Duration is the gateway time: from the first request byte to the
	// last response byte.
	Duration time.Duration
	// Upstream is the backend time (first request byte sent to the last
	// response byte received); HasUpstream is false when no backend was
	// called.
	Upstream    time.Duration
	HasUpstream bool
	// UpstreamCluster is the Envoy cluster the request was sent to and
	// UpstreamHost the address (host:port) of the host it reached, ""
	// when none was chosen.
	UpstreamCluster, UpstreamHost string
	// BreakerRule is the downgrade rule of a breaker plug-in the request
	// matched (ext_authz's metadata; "" for none); BreakerDowngraded: the
	// request went to an open breaker's http, http_vpc or func downgrade, or
	// was passed through by a passthrough one (not counted by the breaker).
	BreakerRule       string
	BreakerDowngraded bool
	// Entry is the access-log entry the record was decoded from, for
	// sinks that write more of it (the kafka_log producer). It is valid
	// only during Sink.Add: a sink must not keep it.
	Entry *datav3.HTTPAccessLogEntry
}

// Decode reads an HTTP access-log entry sent by a node.
func Decode(node *corev3.Node, e *datav3.HTTPAccessLogEntry) Record {
	c := e.GetCommonProperties()
	tags := c.GetCustomTags()
	authz := c.GetMetadata().GetFilterMetadata()[dataplane.ExtAuthzMetadataNamespace].GetFields()
	rl := c.GetMetadata().GetFilterMetadata()[dataplane.RateLimitMetadataNamespace].GetFields()
	r := Record{
		Instance:          tags[dataplane.AccessLogTagInstance],
		Group:             tags[dataplane.AccessLogTagGroup],
		API:               tags[dataplane.AccessLogTagAPI],
		APIName:           tags[dataplane.AccessLogTagAPIName],
		Env:               tags[dataplane.AccessLogTagEnv],
		App:               str(authz[dataplane.ExtAuthzMetaAppID]),
		User:              str(authz[dataplane.ExtAuthzMetaAccountID]),
		Status:            int(e.GetResponse().GetResponseCode().GetValue()),
		Flags:             FlagNames(c.GetResponseFlags()),
		BreakerRule:       str(authz[dataplane.ExtAuthzMetaBreakerRule]),
		BreakerDowngraded: authz[dataplane.ExtAuthzMetaBreakerDowngraded].GetBoolValue(),
		Entry:             e,
	}
	if r.Instance == "" {
		r.Instance = node.GetCluster()
	}
	if r.API == "" {
		// A denial of a known API on a route that names none (never the
		// case for routes apigw builds, but ext_authz says it anyway).
		r.API, r.Env = str(authz[dataplane.ExtAuthzMetaAPIID]), str(authz[dataplane.ExtAuthzMetaEnvID])
	}
	if ts := c.GetStartTime(); ts != nil {
		r.Start = ts.AsTime()
	}
	r.UpstreamCluster = c.GetUpstreamCluster()
	if sa := c.GetUpstreamRemoteAddress().GetSocketAddress(); sa.GetAddress() != "" {
		r.UpstreamHost = net.JoinHostPort(sa.GetAddress(), strconv.FormatUint(uint64(sa.GetPortValue()), 10))
	}
	r.Duration = c.GetDuration().AsDuration()
	if r.Duration == 0 && c.GetTimeToLastDownstreamTxByte() != nil {
		r.Duration = c.GetTimeToLastDownstreamTxByte().AsDuration()
	}
	if tx := c.GetTimeToFirstUpstreamTxByte(); tx != nil {
		if rx := c.GetTimeToLastUpstreamRxByte(); rx != nil {
			r.Upstream, r.HasUpstream = max(rx.AsDuration()-tx.AsDuration(), 0), true
		}
	}
	fl := c.GetResponseFlags()
	r.Denied = fl.GetUnauthorizedDetails() != nil
	r.Throttled = fl.GetRateLimited()
	switch {
	case str(authz[dataplane.ExtAuthzMetaErrorCode]) != "":
		r.ErrorCode = str(authz[dataplane.ExtAuthzMetaErrorCode])
	case str(rl[dataplane.RateLimitMetaErrorCode]) != "":
		r.ErrorCode = str(rl[dataplane.RateLimitMetaErrorCode])
	case tags[dataplane.AccessLogTagErrorCode] != "":
		r.ErrorCode = tags[dataplane.AccessLogTagErrorCode]
	default:
		if err, ok := gwresp.LocalReplyError(r.Flags, e.GetResponse().GetResponseCodeDetails()); ok {
			r.ErrorCode = err.Code
		} else if r.Throttled {
			r.ErrorCode = throttledCode
		}
	}
	return r
}

// throttledCode is APIG's throttling error, for over-limit answers whose
// metadata did not say.
const throttledCode = "APIG.0308"

func str(v *structpb.Value) string {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return k.StringValue
	case *structpb.Value_NumberValue:
		return strconv.FormatFloat(k.NumberValue, 'f', -1, 64)
	}
	return ""
}

// statusClass is the index of a status's class: 1 for 1xx ... 5 for 5xx,
// 0 for none.
func statusClass(status int) int {
	if status < 100 || status > 599 {
		return 0
	}
	return status / 100
}
