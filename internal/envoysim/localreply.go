//lint:file-ignore SA1019 Envoy still honours these deprecated fields, so the emulator reads them too

package envoysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	celv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// reply builds a response as sent, without local-reply mapping.
func (s *stream) reply(status int, body []byte, hdr *Headers, details string, flags ...string) *Response {
	if hdr == nil {
		hdr = &Headers{}
	}
	return &Response{Status: status, Header: hdr.HTTP(), Body: body, Details: details, Flags: flags}
}

// localReply is Envoy's sendLocalReply: the body (text/plain unless the
// headers say otherwise), then the HCM's local_reply_config mappers.
func (s *stream) localReply(status int, body string, hdr *Headers, details string, flags ...string) *Response {
	r, err := s.mapLocalReply(status, body, hdr, details, flags)
	if err != nil {
		r = s.reply(http.StatusInternalServerError, []byte("envoysim: "+err.Error()), nil, "envoysim_error")
		r.Flags = append(r.Flags, "EMULATION_ERROR")
	}
	s.tracef("local reply %d %s %v", r.Status, details, flags)
	return r
}

func (s *stream) mapLocalReply(status int, body string, hdr *Headers, details string, flags []string) (*Response, error) {
	if hdr == nil {
		hdr = &Headers{}
	}
	lrc := s.hcm.GetLocalReplyConfig()
	x := s.fmtCtx(hdr)
	x.status, x.body, x.details, x.flags = status, body, details, flags
	format := lrc.GetBodyFormat()
	for i, m := range lrc.GetMappers() {
		ok, err := s.logFilter(m.GetFilter(), x)
		if err != nil {
			return nil, fmt.Errorf("local_reply_config mapper %d: %w", i, err)
		}
		if !ok {
			continue
		}
		s.tracef("local reply mapper %d matched", i)
		if c := m.GetStatusCode(); c != nil {
			status = int(c.GetValue())
			x.status = status
		}
		if b := m.GetBody(); b != nil {
			body = b.GetInlineString()
			x.body = body
		}
		if m.GetBodyFormatOverride() != nil {
			format = m.GetBodyFormatOverride()
		}
		if err := applyHeaderOptions(hdr, m.GetHeadersToAdd(), x); err != nil {
			return nil, err
		}
		break
	}
	if format != nil {
		b, ctype, err := renderFormat(format, x)
		if err != nil {
			return nil, err
		}
		body = b
		hdr.Set("content-type", ctype)
	} else if body != "" && !hasHeader(hdr, "content-type") {
		hdr.Set("content-type", "text/plain")
	}
	return s.reply(status, []byte(body), hdr, details, flags...), nil
}

// renderFormat renders a SubstitutionFormatString and its content type.
func renderFormat(f *corev3.SubstitutionFormatString, x *fmtCtx) (string, string, error) {
	if len(f.GetFormatters()) > 0 {
		return "", "", fmt.Errorf("formatter extensions are not emulated")
	}
	ctype := f.GetContentType()
	var body string
	switch ff := f.GetFormat().(type) {
	case *corev3.SubstitutionFormatString_TextFormat:
		t, err := formatText(ff.TextFormat, "-", x)
		if err != nil {
			return "", "", err
		}
		body = t
		if ctype == "" {
			ctype = "text/plain"
		}
	case *corev3.SubstitutionFormatString_TextFormatSource:
		t, err := formatText(ff.TextFormatSource.GetInlineString(), "-", x)
		if err != nil {
			return "", "", err
		}
		body = t
		if ctype == "" {
			ctype = "text/plain"
		}
	case *corev3.SubstitutionFormatString_JsonFormat:
		st, err := formatJSON(ff.JsonFormat, x)
		if err != nil {
			return "", "", err
		}
		b, err := protojson.Marshal(st)
		if err != nil {
			return "", "", err
		}
		var compact json.RawMessage = b // protojson output is not stable in spacing
		c, err := json.Marshal(compact)
		if err != nil {
			return "", "", err
		}
		body = string(c) + "\n"
		if ctype == "" {
			ctype = "application/json"
		}
	default:
		return "", "", fmt.Errorf("format %T is not emulated", ff)
	}
	return body, ctype, nil
}

// logFilter evaluates an access-log filter on a local reply.
func (s *stream) logFilter(f *accesslogv3.AccessLogFilter, x *fmtCtx) (bool, error) {
	if f == nil {
		return true, nil
	}
	switch ff := f.GetFilterSpecifier().(type) {
	case *accesslogv3.AccessLogFilter_StatusCodeFilter:
		c := ff.StatusCodeFilter.GetComparison()
		v := int(c.GetValue().GetDefaultValue())
		switch c.GetOp() {
		case accesslogv3.ComparisonFilter_EQ:
			return x.status == v, nil
		case accesslogv3.ComparisonFilter_GE:
			return x.status >= v, nil
		case accesslogv3.ComparisonFilter_LE:
			return x.status <= v, nil
		}
	case *accesslogv3.AccessLogFilter_ResponseFlagFilter:
		want := ff.ResponseFlagFilter.GetFlags()
		if len(want) == 0 {
			return len(x.flags) > 0, nil
		}
		for _, fl := range x.flags {
			if slices.Contains(want, fl) {
				return true, nil
			}
		}
		return false, nil
	case *accesslogv3.AccessLogFilter_AndFilter:
		for _, sub := range ff.AndFilter.GetFilters() {
			if ok, err := s.logFilter(sub, x); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case *accesslogv3.AccessLogFilter_OrFilter:
		for _, sub := range ff.OrFilter.GetFilters() {
			if ok, err := s.logFilter(sub, x); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case *accesslogv3.AccessLogFilter_HeaderFilter:
		return matchHeader(ff.HeaderFilter.GetHeader(), x.req)
	case *accesslogv3.AccessLogFilter_NotHealthCheckFilter:
		return true, nil
	case *accesslogv3.AccessLogFilter_MetadataFilter:
		return metadataFilter(ff.MetadataFilter, x)
	case *accesslogv3.AccessLogFilter_ExtensionFilter:
		cel := &celv3.ExpressionFilter{}
		if err := ff.ExtensionFilter.GetTypedConfig().UnmarshalTo(cel); err != nil {
			return false, fmt.Errorf("extension filter %s: %w", ff.ExtensionFilter.GetName(), err)
		}
		return celFilter(cel.GetExpression(), x)
	}
	return false, fmt.Errorf("access-log filter %T is not emulated", f.GetFilterSpecifier())
}

func metadataFilter(f *accesslogv3.MetadataFilter, x *fmtCtx) (bool, error) {
	m := f.GetMatcher()
	if m == nil {
		return true, nil
	}
	v := structpb.NewStructValue(x.dynMeta[m.GetFilter()])
	if x.dynMeta[m.GetFilter()] == nil {
		v = nil
	}
	for _, p := range m.GetPath() {
		v = v.GetStructValue().GetFields()[p.GetKey()]
	}
	if v == nil {
		return f.GetMatchIfKeyNotFound().GetValue(), nil
	}
	ok, err := matchValue(m.GetValue(), v)
	return ok != m.GetInvert(), err
}

func matchValue(m *matcherv3.ValueMatcher, v *structpb.Value) (bool, error) {
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.ValueMatcher_PresentMatch:
		return p.PresentMatch, nil
	case *matcherv3.ValueMatcher_NullMatch_:
		_, ok := v.GetKind().(*structpb.Value_NullValue)
		return ok, nil
	case *matcherv3.ValueMatcher_BoolMatch:
		b, ok := v.GetKind().(*structpb.Value_BoolValue)
		return ok && b.BoolValue == p.BoolMatch, nil
	case *matcherv3.ValueMatcher_StringMatch:
		sv, ok := v.GetKind().(*structpb.Value_StringValue)
		if !ok {
			return false, nil
		}
		return matchString(p.StringMatch, sv.StringValue)
	case *matcherv3.ValueMatcher_DoubleMatch:
		n, ok := v.GetKind().(*structpb.Value_NumberValue)
		if !ok {
			return false, nil
		}
		switch d := p.DoubleMatch.GetMatchPattern().(type) {
		case *matcherv3.DoubleMatcher_Exact:
			return n.NumberValue == d.Exact, nil
		case *matcherv3.DoubleMatcher_Range:
			return n.NumberValue >= d.Range.GetStart() && n.NumberValue < d.Range.GetEnd(), nil
		}
	}
	return false, fmt.Errorf("value matcher %T is not emulated", m.GetMatchPattern())
}

// The CEL expressions apigw's local-reply mappers use; anything else is
// reported as not emulated.
var (
	celDetailsPrefix = regexp.MustCompile(`^response\.code_details\.startsWith\('([^']*)'\)$`)
	celDetailsEqual  = regexp.MustCompile(`^response\.code_details == '([^']*)'$`)
	celCodeEqual     = regexp.MustCompile(`^response\.code == ([0-9]+)$`)
)

func celFilter(expr string, x *fmtCtx) (bool, error) {
	if m := celDetailsPrefix.FindStringSubmatch(expr); m != nil {
		return len(x.details) >= len(m[1]) && x.details[:len(m[1])] == m[1], nil
	}
	if m := celDetailsEqual.FindStringSubmatch(expr); m != nil {
		return x.details == m[1], nil
	}
	if m := celCodeEqual.FindStringSubmatch(expr); m != nil {
		n, _ := strconv.Atoi(m[1])
		return x.status == n, nil
	}
	return false, fmt.Errorf("CEL expression %q is not emulated", expr)
}
