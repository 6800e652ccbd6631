package envoysim

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// fmtCtx is what Envoy's substitution formatter can read for one request.
type fmtCtx struct {
	req, resp     *Headers
	dynMeta       map[string]*structpb.Struct
	routeMeta     *corev3.Metadata
	routeName     string
	remote, local string // ip:port (remote: the trusted client address)
	peer          string // the TCP peer
	status        int
	body          string // the local reply body
	details       string
	flags         []string
	// t, end and the byte counts are known once the stream has timings
	// (access logs, response header mutations).
	t                 *timing
	end               time.Time
	bytesIn, bytesOut int
}

// ms renders a duration as Envoy's millisecond commands do.
func ms(d time.Duration) *structpb.Value { return structpb.NewNumberValue(float64(d.Milliseconds())) }

// commonDuration is %COMMON_DURATION(START:END:ms)% over the emulated
// events (US_CX_* are the upstream request's start, as the emulator does
// not see connections).
func commonDuration(x *fmtCtx, arg string) *structpb.Value {
	parts := strings.Split(arg, ":")
	if x.t == nil || len(parts) != 3 || parts[2] != "ms" {
		return nil
	}
	at := func(p string) time.Time {
		switch p {
		case "DS_RX_BEG", "DS_RX_END":
			return x.t.start
		case "US_CX_BEG", "US_CX_END", "US_TX_BEG", "US_TX_END":
			return x.t.upTx
		case "US_RX_BEG":
			return x.t.upRxFirst
		case "US_RX_END":
			return x.t.upRxLast
		case "DS_TX_BEG", "DS_TX_END":
			return x.end
		}
		return time.Time{}
	}
	a, b := at(parts[0]), at(parts[1])
	if a.IsZero() || b.IsZero() {
		return nil
	}
	return ms(b.Sub(a))
}

// command is one %COMMAND(arg):len% of a format string.
type command struct {
	name, arg string
	maxLen    int
}

// segment is a literal or a command.
type segment struct {
	lit string
	cmd *command
}

// parseFormat splits a format string into literals and commands; "%%" is a
// literal "%".
func parseFormat(s string) ([]segment, error) {
	var out []segment
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		end := strings.IndexByte(s[i+1:], '%')
		if end < 0 {
			return nil, fmt.Errorf("format %q: unterminated %%", s)
		}
		c, err := parseCommand(s[i+1 : i+1+end])
		if err != nil {
			return nil, fmt.Errorf("format %q: %w", s, err)
		}
		if lit.Len() > 0 {
			out = append(out, segment{lit: lit.String()})
			lit.Reset()
		}
		out = append(out, segment{cmd: c})
		i += end + 1
	}
	if lit.Len() > 0 {
		out = append(out, segment{lit: lit.String()})
	}
	return out, nil
}

func parseCommand(s string) (*command, error) {
	c := &command{}
	if open := strings.IndexByte(s, '('); open >= 0 {
		close := strings.LastIndexByte(s, ')')
		if close < open {
			return nil, fmt.Errorf("command %q: unbalanced parenthesis", s)
		}
		c.name, c.arg = s[:open], s[open+1:close]
		s = s[close+1:]
	} else {
		c.name, s, _ = strings.Cut(s, ":")
		if s != "" {
			s = ":" + s
		}
	}
	if s != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(s, ":"))
		if err != nil || !strings.HasPrefix(s, ":") {
			return nil, fmt.Errorf("command %q: bad length %q", c.name, s)
		}
		c.maxLen = n
	}
	if _, ok := commands[c.name]; !ok {
		return nil, fmt.Errorf("command %%%s%% is not emulated", c.name)
	}
	return c, nil
}

type commandFunc func(x *fmtCtx, arg string) *structpb.Value

var commands = map[string]commandFunc{
	"START_TIME": func(x *fmtCtx, arg string) *structpb.Value {
		if x.t == nil || arg != "" {
			return nil
		}
		return str(x.t.start.UTC().Format("2006-01-02T15:04:05.000Z"))
	},
	"DURATION": func(x *fmtCtx, _ string) *structpb.Value {
		if x.t == nil || x.end.IsZero() {
			return nil
		}
		return ms(x.end.Sub(x.t.start))
	},
	"RESPONSE_DURATION": func(x *fmtCtx, _ string) *structpb.Value {
		if x.t == nil || x.t.upRxFirst.IsZero() {
			return nil
		}
		return ms(x.t.upRxFirst.Sub(x.t.start))
	},
	"COMMON_DURATION": commonDuration,
	"BYTES_RECEIVED":  func(x *fmtCtx, _ string) *structpb.Value { return structpb.NewNumberValue(float64(x.bytesIn)) },
	"BYTES_SENT":      func(x *fmtCtx, _ string) *structpb.Value { return structpb.NewNumberValue(float64(x.bytesOut)) },
	"UPSTREAM_HOST": func(x *fmtCtx, _ string) *structpb.Value {
		if x.t == nil {
			return nil
		}
		return str(x.t.upAddr)
	},
	"REQ":                                    func(x *fmtCtx, arg string) *structpb.Value { return headerCmd(x.req, arg) },
	"RESP":                                   func(x *fmtCtx, arg string) *structpb.Value { return headerCmd(x.resp, arg) },
	"DOWNSTREAM_REMOTE_ADDRESS":              func(x *fmtCtx, _ string) *structpb.Value { return str(x.remote) },
	"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": func(x *fmtCtx, _ string) *structpb.Value { return str(hostOf(x.remote)) },
	"DOWNSTREAM_DIRECT_REMOTE_ADDRESS":       func(x *fmtCtx, _ string) *structpb.Value { return str(x.peer) },
	"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT": func(x *fmtCtx, _ string) *structpb.Value { return str(hostOf(x.peer)) },
	"DOWNSTREAM_LOCAL_ADDRESS":                      func(x *fmtCtx, _ string) *structpb.Value { return str(x.local) },
	"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT":         func(x *fmtCtx, _ string) *structpb.Value { return str(hostOf(x.local)) },
	"HOSTNAME": func(*fmtCtx, string) *structpb.Value {
		h, _ := os.Hostname()
		return str(h)
	},
	"PROTOCOL":              func(*fmtCtx, string) *structpb.Value { return str("HTTP/1.1") },
	"ROUTE_NAME":            func(x *fmtCtx, _ string) *structpb.Value { return str(x.routeName) },
	"LOCAL_REPLY_BODY":      func(x *fmtCtx, _ string) *structpb.Value { return structpb.NewStringValue(x.body) },
	"RESPONSE_CODE":         func(x *fmtCtx, _ string) *structpb.Value { return structpb.NewNumberValue(float64(x.status)) },
	"RESPONSE_CODE_DETAILS": func(x *fmtCtx, _ string) *structpb.Value { return str(x.details) },
	"RESPONSE_FLAGS":        func(x *fmtCtx, _ string) *structpb.Value { return str(strings.Join(x.flags, ",")) },
	"DYNAMIC_METADATA": func(x *fmtCtx, arg string) *structpb.Value {
		ns, path, _ := strings.Cut(arg, ":")
		return metadataValue(x.dynMeta[ns], path)
	},
	"METADATA": func(x *fmtCtx, arg string) *structpb.Value {
		kind, rest, _ := strings.Cut(arg, ":")
		if kind != "ROUTE" || x.routeMeta == nil {
			return nil
		}
		ns, path, _ := strings.Cut(rest, ":")
		return metadataValue(x.routeMeta.GetFilterMetadata()[ns], path)
	},
	"PATH": func(x *fmtCtx, arg string) *structpb.Value {
		p := x.req.Value(":path")
		if arg == "NQ" || strings.HasPrefix(arg, "NQ:") {
			p = x.req.path()
		}
		return str(p)
	},
	"QUERY_PARAM": func(x *fmtCtx, arg string) *structpb.Value {
		vs, err := url.ParseQuery(x.req.query())
		if err != nil || !vs.Has(arg) {
			return nil
		}
		return str(vs.Get(arg))
	},
}

func str(s string) *structpb.Value {
	if s == "" {
		return nil
	}
	return structpb.NewStringValue(s)
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// headerCmd reads REQ(name) / REQ(name?alternative).
func headerCmd(h *Headers, arg string) *structpb.Value {
	if h == nil {
		return nil
	}
	main, alt, _ := strings.Cut(arg, "?")
	if v, ok := h.Joined(main); ok {
		return structpb.NewStringValue(v)
	}
	if alt != "" {
		if v, ok := h.Joined(alt); ok {
			return structpb.NewStringValue(v)
		}
	}
	return nil
}

func metadataValue(s *structpb.Struct, path string) *structpb.Value {
	if s == nil {
		return nil
	}
	v := structpb.NewStructValue(s)
	for _, k := range strings.Split(path, ":") {
		if k == "" {
			continue
		}
		f := v.GetStructValue().GetFields()[k]
		if f == nil {
			return nil
		}
		v = f
	}
	return v
}

// text renders a value the way text formats and headers show it.
func text(v *structpb.Value) string {
	switch k := v.GetKind().(type) {
	case nil:
		return ""
	case *structpb.Value_StringValue:
		return k.StringValue
	case *structpb.Value_NumberValue:
		return strconv.FormatFloat(k.NumberValue, 'f', -1, 64)
	case *structpb.Value_BoolValue:
		return strconv.FormatBool(k.BoolValue)
	default:
		b, _ := protojson.Marshal(v)
		return string(b)
	}
}

func (c *command) eval(x *fmtCtx) *structpb.Value {
	v := commands[c.name](x, c.arg)
	if c.maxLen > 0 {
		if s, ok := v.GetKind().(*structpb.Value_StringValue); ok && len(s.StringValue) > c.maxLen {
			return structpb.NewStringValue(s.StringValue[:c.maxLen])
		}
	}
	return v
}

// formatText renders a format string; missing values become missing (""
// for headers and path rewrites, "-" in text bodies).
func formatText(format, missing string, x *fmtCtx) (string, error) {
	segs, err := parseFormat(format)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, s := range segs {
		if s.cmd == nil {
			b.WriteString(s.lit)
			continue
		}
		v := s.cmd.eval(x)
		if v == nil {
			b.WriteString(missing)
			continue
		}
		b.WriteString(text(v))
	}
	return b.String(), nil
}

// formatJSON renders a json_format struct: a value that is exactly one
// command keeps its type (missing: null), anything else is text.
func formatJSON(s *structpb.Struct, x *fmtCtx) (*structpb.Struct, error) {
	out := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for k, v := range s.GetFields() {
		r, err := formatJSONValue(v, x)
		if err != nil {
			return nil, err
		}
		out.Fields[k] = r
	}
	return out, nil
}

func formatJSONValue(v *structpb.Value, x *fmtCtx) (*structpb.Value, error) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		s, err := formatJSON(k.StructValue, x)
		if err != nil {
			return nil, err
		}
		return structpb.NewStructValue(s), nil
	case *structpb.Value_StringValue:
		segs, err := parseFormat(k.StringValue)
		if err != nil {
			return nil, err
		}
		if len(segs) == 1 && segs[0].cmd != nil {
			if r := segs[0].cmd.eval(x); r != nil {
				return r, nil
			}
			return structpb.NewNullValue(), nil
		}
		t, err := formatText(k.StringValue, "-", x)
		if err != nil {
			return nil, err
		}
		return structpb.NewStringValue(t), nil
	default:
		return v, nil
	}
}
