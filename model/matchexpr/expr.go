package matchexpr

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// Params looks up the value of a parameter by name; ok is false when the
// request has no such parameter. Eval calls it once per condition.
type Params interface {
	Param(name string) (value string, ok bool)
}

// Map is Params over a map.
type Map map[string]string

// Param implements Params.
func (m Map) Param(name string) (string, bool) {
	v, ok := m[name]
	return v, ok
}

// Op is a condition's operator.
type Op uint8

// Operators.
const (
	OpEq        Op = iota + 1 // ==
	OpNe                      // ~=
	OpGt                      // >
	OpGe                      // >=
	OpLt                      // <
	OpLe                      // <=
	OpMatch                   // ~~
	OpMatchFold               // ~*
	OpIn                      // in
)

var opText = [...]string{OpEq: "==", OpNe: "~=", OpGt: ">", OpGe: ">=", OpLt: "<", OpLe: "<=", OpMatch: "~~", OpMatchFold: "~*", OpIn: "in"}

func (o Op) String() string {
	if int(o) < len(opText) {
		return opText[o]
	}
	return "?"
}

type logic uint8

const (
	logicAnd logic = iota
	logicOr
	logicNotAnd
	logicNotOr
)

var logicText = [...]string{logicAnd: "AND", logicOr: "OR", logicNotAnd: "!AND", logicNotOr: "!OR"}

type nodeKind uint8

const (
	kindCond nodeKind = iota
	kindGroup
)

// node is a compiled condition or group.
type node struct {
	kind nodeKind
	// group
	logic logic
	kids  []node
	// condition
	not     bool
	op      Op
	param   string
	str     string // the value as written (regex source, list text, number text)
	num     float64
	numeric bool
	re      *regexp.Regexp
	set     []string
	list    bool // in: given as an array
}

// Expr is a compiled expression. It is safe for concurrent use.
type Expr struct {
	root   node
	params []string
	at     []value
	src    string
}

// Params lists the parameter names the expression reads, in the order of
// their first use.
func (e *Expr) Params() []string { return append([]string(nil), e.params...) }

// CheckParams refuses an expression naming a parameter that known does
// not accept (a rule may only use the parameters its plug-in defines),
// with the position where the parameter is first named.
func (e *Expr) CheckParams(known func(name string) bool) error {
	for i, p := range e.params {
		if !known(p) {
			return e.at[i].errf("parameter %q is not defined", p)
		}
	}
	return nil
}

// Source is the text the expression was parsed from.
func (e *Expr) Source() string { return e.src }

// Eval reports whether the parameters match the expression. It does not
// allocate (beyond what p.Param does).
func (e *Expr) Eval(p Params) bool { return e.root.eval(p) }

func (n *node) eval(p Params) bool {
	if n.kind == kindGroup {
		switch n.logic {
		case logicAnd:
			return n.all(p)
		case logicOr:
			return n.any(p)
		case logicNotAnd:
			return !n.all(p)
		default:
			return !n.any(p)
		}
	}
	v, ok := p.Param(n.param)
	return n.test(v, ok) != n.not
}

func (n *node) all(p Params) bool {
	for i := range n.kids {
		if !n.kids[i].eval(p) {
			return false
		}
	}
	return true
}

func (n *node) any(p Params) bool {
	for i := range n.kids {
		if n.kids[i].eval(p) {
			return true
		}
	}
	return false
}

// test applies the operator to a parameter's value (ok: present).
func (n *node) test(v string, ok bool) bool {
	switch n.op {
	case OpEq:
		return ok && n.equal(v)
	case OpNe:
		return !ok || !n.equal(v)
	case OpGt, OpGe, OpLt, OpLe:
		if !ok {
			return false
		}
		f, isNum := parseNumber(v)
		if !isNum {
			return false
		}
		switch n.op {
		case OpGt:
			return f > n.num
		case OpGe:
			return f >= n.num
		case OpLt:
			return f < n.num
		}
		return f <= n.num
	case OpMatch, OpMatchFold:
		return ok && n.re.MatchString(v)
	case OpIn:
		if !ok {
			return false
		}
		for _, s := range n.set {
			if s == v {
				return true
			}
		}
	}
	return false
}

func (n *node) equal(v string) bool {
	if n.numeric {
		f, ok := parseNumber(v)
		return ok && f == n.num
	}
	return v == n.str
}

// String is the canonical JSON form of the expression: operators and
// logic words in their documented spelling, numbers as written.
func (e *Expr) String() string {
	var b strings.Builder
	e.root.write(&b)
	return b.String()
}

func (n *node) write(b *strings.Builder) {
	b.WriteByte('[')
	if n.kind == kindGroup {
		writeString(b, logicText[n.logic])
		for i := range n.kids {
			b.WriteByte(',')
			n.kids[i].write(b)
		}
		b.WriteByte(']')
		return
	}
	writeString(b, n.param)
	if n.not {
		b.WriteString(`,"!"`)
	}
	b.WriteByte(',')
	writeString(b, n.op.String())
	b.WriteByte(',')
	switch {
	case n.op == OpIn && n.list:
		b.WriteByte('[')
		for i, s := range n.set {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, s)
		}
		b.WriteByte(']')
	case n.numeric:
		b.WriteString(strconv.FormatFloat(n.num, 'g', -1, 64))
	default:
		writeString(b, n.str)
	}
	b.WriteByte(']')
}

// writeString writes s as a JSON string (without HTML escaping, so that
// operators such as ">" stay readable).
func writeString(b *strings.Builder, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
