package kafkalog

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// layout is what the records of a plug-in carry.
type layout struct {
	fields      []field
	reqHeaders  []string // lower case; nil: none
	respHeaders []string
	query       bool
	allQuery    bool
	queryNames  []string
	// frontend and backend are authorizer context keys; authorizer is
	// set when either has some.
	frontend, backend []string
	authorizer        bool
}

// field is a system field: its name and how it is written.
type field struct {
	name  string
	write writer
}

// writer appends a field's value for an entry of a route.
type writer func(b []byte, r *accesslog.Record, rt *route) []byte

func newLayout(m *apigwv1.KafkaMetaConfig) layout {
	var l layout
	for _, n := range model.KafkaSystemFieldNames(m) {
		if w := writers[n]; w != nil {
			l.fields = append(l.fields, field{n, w})
		}
	}
	cd := m.GetCallData()
	if cd.GetLogRequestHeader() {
		l.reqHeaders = model.KafkaHeaderNames(cd.GetRequestHeaderFilter())
	}
	if cd.GetLogResponseHeader() {
		l.respHeaders = model.KafkaHeaderNames(cd.GetResponseHeaderFilter())
	}
	if ca := cd.GetCustomAuthorizer(); len(ca.GetFrontend())+len(ca.GetBackend()) > 0 {
		l.frontend, l.backend, l.authorizer = ca.GetFrontend(), ca.GetBackend(), true
	}
	if cd.GetLogRequestQueryString() {
		l.query = true
		for _, n := range model.SplitList(cd.GetRequestQueryStringFilter()) {
			if n == "*" {
				l.allQuery = true
			}
			l.queryNames = append(l.queryNames, n)
		}
	}
	return l
}

// render writes the JSON record of an access-log entry.
func (l *layout) render(r *accesslog.Record, rt *route) []byte {
	b := make([]byte, 0, 512)
	b = append(b, '{')
	for i, f := range l.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.name)
		b = append(b, ':')
		b = f.write(b, r, rt)
	}
	sep := func() {
		if len(b) > 1 {
			b = append(b, ',')
		}
	}
	if l.reqHeaders != nil {
		sep()
		b = append(b, `"request_header":`...)
		b = appendHeaders(b, l.reqHeaders, r.Entry.GetRequest().GetRequestHeaders())
	}
	if l.query {
		sep()
		b = append(b, `"request_query_string":`...)
		b = l.appendQuery(b, uri(r.Entry))
	}
	if l.respHeaders != nil {
		sep()
		b = append(b, `"response_header":`...)
		b = appendHeaders(b, l.respHeaders, r.Entry.GetResponse().GetResponseHeaders())
	}
	if l.authorizer {
		sep()
		md := r.Entry.GetCommonProperties().GetMetadata().GetFilterMetadata()[dataplane.ExtAuthzMetadataNamespace].GetFields()
		b = append(b, `"custom_authorizer":{"frontend":`...)
		b = appendContext(b, l.frontend, md[dataplane.ExtAuthzMetaFrontendContext].GetStructValue().GetFields())
		b = append(b, `,"backend":`...)
		b = appendContext(b, l.backend, md[dataplane.ExtAuthzMetaBackendContext].GetStructValue().GetFields())
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendContext writes the named keys an authorizer's context has.
func appendContext(b []byte, keys []string, ctx map[string]*structpb.Value) []byte {
	b = append(b, '{')
	n := 0
	for _, k := range keys {
		v, ok := ctx[k]
		if !ok {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, v.GetStringValue())
	}
	return append(b, '}')
}

func appendHeaders(b []byte, names []string, values map[string]string) []byte {
	b = append(b, '{')
	n := 0
	for _, h := range names {
		v, ok := values[h]
		if !ok {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendString(b, h)
		b = append(b, ':')
		b = appendString(b, v)
	}
	return append(b, '}')
}

// appendQuery writes the selected query parameters (the first value of
// each, in the order of the request).
func (l *layout) appendQuery(b []byte, u string) []byte {
	b = append(b, '{')
	_, raw, _ := strings.Cut(u, "?")
	var seen []string
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k, err := url.QueryUnescape(k); err == nil && k != "" && !slices.Contains(seen, k) && (l.allQuery || slices.Contains(l.queryNames, k)) {
			val, err := url.QueryUnescape(v)
			if err != nil {
				val = v
			}
			if len(seen) > 0 {
				b = append(b, ',')
			}
			seen = append(seen, k)
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, val)
		}
	}
	return append(b, '}')
}

// uri is the request's path as received, with its query.
func uri(e *datav3.HTTPAccessLogEntry) string {
	if p := e.GetRequest().GetOriginalPath(); p != "" {
		return p
	}
	return e.GetRequest().GetPath()
}

func text(get func(r *accesslog.Record) string) writer {
	return func(b []byte, r *accesslog.Record, _ *route) []byte { return appendString(b, get(r)) }
}

// modelText writes a value the model gives for the entry's route.
func modelText(get func(r *accesslog.Record, rt *route) string) writer {
	return func(b []byte, r *accesslog.Record, rt *route) []byte {
		if rt == nil {
			return appendString(b, "")
		}
		return appendString(b, get(r, rt))
	}
}

func number(get func(r *accesslog.Record) (int64, bool)) writer {
	return func(b []byte, r *accesslog.Record, _ *route) []byte {
		if v, ok := get(r); ok {
			return strconv.AppendInt(b, v, 10)
		}
		return append(b, "null"...)
	}
}

func authz(r *accesslog.Record, key string) string {
	v := r.Entry.GetCommonProperties().GetMetadata().GetFilterMetadata()[dataplane.ExtAuthzMetadataNamespace].GetFields()[key]
	if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
		return s.StringValue
	}
	return ""
}

func address(a *corev3.Address, port bool) string {
	sa := a.GetSocketAddress()
	if sa == nil {
		return ""
	}
	if !port {
		return sa.GetAddress()
	}
	return netJoin(sa.GetAddress(), sa.GetPortValue())
}

func netJoin(host string, port uint32) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.FormatUint(uint64(port), 10)
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

var protocols = map[datav3.HTTPAccessLogEntry_HTTPVersion]string{
	datav3.HTTPAccessLogEntry_HTTP10: "HTTP/1.0", datav3.HTTPAccessLogEntry_HTTP11: "HTTP/1.1",
	datav3.HTTPAccessLogEntry_HTTP2: "HTTP/2", datav3.HTTPAccessLogEntry_HTTP3: "HTTP/3",
}

// writers are the system fields apigw writes (model.KafkaSupportedFields).
var writers = map[string]writer{
	"start_time": text(func(r *accesslog.Record) string {
		if r.Start.IsZero() {
			return ""
		}
		return r.Start.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}),
	"request_id": text(func(r *accesslog.Record) string { return r.Entry.GetRequest().GetRequestId() }),
	"client_ip": text(func(r *accesslog.Record) string {
		return address(r.Entry.GetCommonProperties().GetDownstreamRemoteAddress(), false)
	}),
	"api_id":          text(func(r *accesslog.Record) string { return r.API }),
	"api_name":        text(func(r *accesslog.Record) string { return r.APIName }),
	"env_id":          text(func(r *accesslog.Record) string { return r.Env }),
	"group_id":        text(func(r *accesslog.Record) string { return r.Group }),
	"user_name":       text(func(r *accesslog.Record) string { return authz(r, dataplane.ExtAuthzMetaAccountName) }),
	"app_id":          text(func(r *accesslog.Record) string { return r.App }),
	"request_time":    number(func(r *accesslog.Record) (int64, bool) { return ms(r.Duration), true }),
	"http_status":     number(func(r *accesslog.Record) (int64, bool) { return int64(r.Status), true }),
	"server_protocol": text(func(r *accesslog.Record) string { return protocols[r.Entry.GetProtocolVersion()] }),
	"scheme":          text(func(r *accesslog.Record) string { return r.Entry.GetRequest().GetScheme() }),
	"request_method": text(func(r *accesslog.Record) string {
		if m := r.Entry.GetRequest().GetRequestMethod(); m != corev3.RequestMethod_METHOD_UNSPECIFIED {
			return m.String()
		}
		return ""
	}),
	"host": text(func(r *accesslog.Record) string { return r.Entry.GetRequest().GetAuthority() }),
	"uri":  text(func(r *accesslog.Record) string { return uri(r.Entry) }),
	"request_size": number(func(r *accesslog.Record) (int64, bool) {
		q := r.Entry.GetRequest()
		return int64(q.GetRequestHeadersBytes() + q.GetRequestBodyBytes()), true
	}),
	"response_size": number(func(r *accesslog.Record) (int64, bool) {
		s := r.Entry.GetResponse()
		return int64(s.GetResponseHeadersBytes() + s.GetResponseBodyBytes()), true
	}),
	"body_bytes_sent": number(func(r *accesslog.Record) (int64, bool) {
		return int64(r.Entry.GetResponse().GetResponseBodyBytes()), true
	}),
	"upstream_addr": text(func(r *accesslog.Record) string {
		return address(r.Entry.GetCommonProperties().GetUpstreamRemoteAddress(), true)
	}),
	"upstream_header_time": number(func(r *accesslog.Record) (int64, bool) {
		c := r.Entry.GetCommonProperties()
		tx, rx := c.GetTimeToFirstUpstreamTxByte(), c.GetTimeToFirstUpstreamRxByte()
		if tx == nil || rx == nil {
			return 0, false
		}
		return ms(max(rx.AsDuration()-tx.AsDuration(), 0)), true
	}),
	"upstream_response_time": number(func(r *accesslog.Record) (int64, bool) { return ms(r.Upstream), r.HasUpstream }),
	"http_x_forwarded_for":   text(func(r *accesslog.Record) string { return r.Entry.GetRequest().GetForwardedFor() }),
	"http_user_agent":        text(func(r *accesslog.Record) string { return r.Entry.GetRequest().GetUserAgent() }),
	"error_type":             text(func(r *accesslog.Record) string { return authz(r, dataplane.ExtAuthzMetaErrorType) }),
	"error_code":             text(func(r *accesslog.Record) string { return r.ErrorCode }),
	"response_source":        text(func(r *accesslog.Record) string { return r.Entry.GetResponse().GetResponseCodeDetails() }),
	"auth_type":              modelText(func(_ *accesslog.Record, rt *route) string { return rt.authType }),
	"api_uri_mode":           modelText(func(_ *accesslog.Record, rt *route) string { return rt.matchMode }),
	"app_name": modelText(func(r *accesslog.Record, rt *route) string {
		if r.App == "" {
			return ""
		}
		return rt.in.App(r.App).GetName()
	}),
}
