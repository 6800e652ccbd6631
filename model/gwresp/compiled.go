package gwresp

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/apigw/apigw/model"
)

// Compiled is the gateway response of one error, parsed once to render
// many requests' responses without Render's per-call parsing: the error's
// variables are filled in when compiling, the request's when rendering.
// It renders exactly what Render renders. A Compiled is immutable.
type Compiled struct {
	Status      int32
	ContentType string
	body        template
	headers     []header
}

// template is a text with $context variables: literal, variable,
// literal, ...
type template struct {
	pieces []piece
	json   bool // values are escaped for use inside JSON strings
}

// piece is a literal followed by a variable (name "" for none) and the
// dots that trailed the variable's name.
type piece struct{ lit, name, trail string }

type header struct {
	key   string
	value template
}

// Compile parses the gateway response for e in an API's response set
// (see Lookup).
func Compile(in *model.Instance, groupID, responseID string, e Error) *Compiled {
	t := Lookup(in, groupID, responseID, e.Type)
	errVars := Vars{"error.code": e.Code, "error.message": Clip(e.Message, 2*MaxEcho), "error.type": e.Type}
	isJSON := looksJSON(t.Body)
	c := &Compiled{Status: e.Status, ContentType: "application/json", body: parse(t.Body, errVars, isJSON)}
	if t.Status != 0 {
		c.Status = t.Status
	}
	if !isJSON {
		c.ContentType = "text/plain; charset=utf-8"
	}
	for _, h := range t.Headers {
		c.headers = append(c.headers, header{key: h.Key, value: parse(h.Value, errVars, false)})
	}
	sort.SliceStable(c.headers, func(i, j int) bool { return c.headers[i].key < c.headers[j].key })
	return c
}

// parse splits tmpl at its $context variables (reVar's matches), putting
// the values of known in as literals.
func parse(tmpl string, known Vars, jsonEscape bool) template {
	t := template{json: jsonEscape}
	var lit strings.Builder
	last := 0
	for _, m := range reVar.FindAllStringIndex(tmpl, -1) {
		lit.WriteString(tmpl[last:m[0]])
		last = m[1]
		name := strings.TrimPrefix(tmpl[m[0]:m[1]], "$context.")
		trail := ""
		for strings.HasSuffix(name, ".") {
			name, trail = name[:len(name)-1], trail+"."
		}
		if v, ok := known[name]; ok {
			lit.WriteString(string(appendValue(nil, v, jsonEscape)))
			lit.WriteString(trail)
			continue
		}
		t.pieces = append(t.pieces, piece{lit: lit.String(), name: name, trail: trail})
		lit.Reset()
	}
	lit.WriteString(tmpl[last:])
	if lit.Len() > 0 || len(t.pieces) == 0 {
		t.pieces = append(t.pieces, piece{lit: lit.String()})
	}
	return t
}

// AppendBody appends the body rendered with the request's variables
// (vars returns "" for an unknown name), each cut to MaxEcho bytes as
// Render cuts them.
func (c *Compiled) AppendBody(dst []byte, vars func(name string) string) []byte {
	return c.body.append(dst, vars)
}

// Headers returns the number of headers of the response.
func (c *Compiled) Headers() int { return len(c.headers) }

// Header returns header i's name, and its value when it does not depend
// on the request (constant).
func (c *Compiled) Header(i int) (key, value string, constant bool) {
	h := &c.headers[i]
	if p := h.value.pieces; len(p) == 1 && p[0].name == "" {
		return h.key, withoutControls(p[0].lit), true
	}
	return h.key, "", false
}

// AppendHeader appends header i's value rendered with the request's
// variables.
// As Render's, the value holds no control character but tab.
func (c *Compiled) AppendHeader(dst []byte, i int, vars func(name string) string) []byte {
	start := len(dst)
	dst = c.headers[i].value.append(dst, vars)
	if v := dst[start:]; hasControl(v) {
		dst = append(dst[:start], withoutControls(string(v))...)
	}
	return dst
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

func (t *template) append(dst []byte, vars func(string) string) []byte {
	for _, p := range t.pieces {
		dst = append(dst, p.lit...)
		if p.name != "" {
			dst = append(appendValue(dst, Clip(vars(p.name), MaxEcho), t.json), p.trail...)
		}
	}
	return dst
}

// appendValue appends v, escaped as Substitute escapes it for JSON.
func appendValue(dst []byte, v string, jsonEscape bool) []byte {
	if !jsonEscape || jsonSafe(v) {
		return append(dst, v...)
	}
	b, _ := json.Marshal(v)
	return append(dst, b[1:len(b)-1]...)
}

// jsonSafe reports whether json.Marshal leaves v as it is (inside the
// quotes): printable ASCII other than the characters it escapes.
func jsonSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c < 0x20 || c >= 0x80, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
