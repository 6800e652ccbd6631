package matchexpr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Limits of one expression.
const (
	// MaxDepth bounds the nesting of arrays.
	MaxDepth = 32
	// MaxConditions bounds the conditions of one expression.
	MaxConditions = 1000
)

// Error is an expression refused by Parse.
type Error struct {
	// Path is the position inside the expression as JSON array indexes,
	// "[2][1]" for the second item of the third; "" for the whole.
	Path string
	// Offset is the byte offset in the source text.
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s (offset %d): %s", e.Path, e.Offset, e.Msg)
}

// value is a decoded JSON value with its position.
type value struct {
	path  string
	off   int
	kind  byte // '[' array, 's' string, 'n' number, 'b' boolean, 'z' null, '{' object
	str   string
	num   json.Number
	items []value
}

// Parse parses and compiles an expression given as its JSON text.
func Parse(src string) (*Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Msg: "empty expression: want a JSON array such as [\"method\",\"==\",\"GET\"]"}
	}
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	r := &reader{dec: dec, src: src}
	root, err := r.value("", 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &Error{Offset: r.next(), Msg: "unexpected text after the expression"}
	}
	c := &compiler{}
	n, err := c.expr(root, true)
	if err != nil {
		return nil, err
	}
	return &Expr{root: n, params: c.params, at: c.at, src: src}, nil
}

type reader struct {
	dec *json.Decoder
	src string
}

// next is the offset of the next token.
func (r *reader) next() int {
	off := int(r.dec.InputOffset())
	for off < len(r.src) && strings.IndexByte(" \t\r\n,:", r.src[off]) >= 0 {
		off++
	}
	return off
}

func (r *reader) value(path string, depth int) (value, error) {
	off := r.next()
	tok, err := r.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return value{}, &Error{Path: path, Offset: int(se.Offset), Msg: "not JSON: " + se.Error()}
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return value{}, &Error{Path: path, Offset: len(r.src), Msg: "the expression ends early"}
		}
		return value{}, &Error{Path: path, Offset: off, Msg: "not JSON: " + err.Error()}
	}
	v := value{path: path, off: off}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			if depth >= MaxDepth {
				return value{}, &Error{Path: path, Offset: off, Msg: fmt.Sprintf("nested deeper than %d arrays", MaxDepth)}
			}
			v.kind = '['
			for i := 0; r.dec.More(); i++ {
				item, err := r.value(path+"["+strconv.Itoa(i)+"]", depth+1)
				if err != nil {
					return value{}, err
				}
				v.items = append(v.items, item)
			}
			if _, err := r.dec.Token(); err != nil {
				return value{}, &Error{Path: path, Offset: len(r.src), Msg: "the expression ends early"}
			}
		default:
			return value{}, &Error{Path: path, Offset: off, Msg: "an object is not an expression: want an array or a value"}
		}
	case string:
		v.kind, v.str = 's', t
	case json.Number:
		v.kind, v.num = 'n', t
	case bool:
		v.kind = 'b'
	case nil:
		v.kind = 'z'
	}
	return v, nil
}

func (v value) errf(format string, args ...any) error {
	return &Error{Path: v.path, Offset: v.off, Msg: fmt.Sprintf(format, args...)}
}

func kindName(k byte) string {
	return map[byte]string{'[': "an array", 's': "a string", 'n': "a number", 'b': "a boolean", 'z': "null", '{': "an object"}[k]
}

type compiler struct {
	params     []string
	at         []value // where each parameter is first named
	conditions int
}

var logicOps = map[string]logic{"AND": logicAnd, "OR": logicOr, "!AND": logicNotAnd, "!OR": logicNotOr}

var operators = map[string]Op{"==": OpEq, "~=": OpNe, ">": OpGt, ">=": OpGe, "<": OpLt, "<=": OpLe, "~~": OpMatch, "~*": OpMatchFold, "in": OpIn}

// expr compiles an array: a group, a list or (at the top, or as an
// operand) a condition.
func (c *compiler) expr(v value, top bool) (node, error) {
	if v.kind != '[' {
		return node{}, v.errf("want an expression (an array), got %s", kindName(v.kind))
	}
	if len(v.items) == 0 {
		return node{}, v.errf("empty expression: want a condition such as [\"method\",\"==\",\"GET\"]")
	}
	first := v.items[0]
	switch first.kind {
	case '[':
		n := node{kind: kindGroup, logic: logicAnd}
		for _, it := range v.items {
			k, err := c.expr(it, false)
			if err != nil {
				return node{}, err
			}
			n.kids = append(n.kids, k)
		}
		return n, nil
	case 's':
		if l, ok := logicOps[strings.ToUpper(first.str)]; ok {
			if len(v.items) < 2 {
				return node{}, v.errf("%s needs at least one operand", strings.ToUpper(first.str))
			}
			n := node{kind: kindGroup, logic: l}
			for _, it := range v.items[1:] {
				k, err := c.expr(it, false)
				if err != nil {
					return node{}, err
				}
				n.kids = append(n.kids, k)
			}
			return n, nil
		}
		return c.condition(v)
	}
	return node{}, first.errf("want a parameter name, AND, OR, !AND, !OR or a nested expression, got %s", kindName(first.kind))
}

// condition compiles [param, op, value] or [param, "!", op, value].
func (c *compiler) condition(v value) (node, error) {
	it := v.items
	n := node{kind: kindCond}
	switch len(it) {
	case 3:
	case 4:
		if it[1].kind != 's' || it[1].str != "!" {
			return node{}, it[1].errf("a condition of four items is [parameter, \"!\", operator, value]")
		}
		n.not = true
		it = []value{it[0], it[2], it[3]}
	default:
		return node{}, v.errf("a condition is [parameter, operator, value] (got %d items)", len(it))
	}
	if c.conditions++; c.conditions > MaxConditions {
		return node{}, v.errf("more than %d conditions", MaxConditions)
	}
	p, opv, val := it[0], it[1], it[2]
	if p.str == "" {
		return node{}, p.errf("the parameter name is empty")
	}
	n.param = p.str
	c.addParam(p)
	if opv.kind != 's' {
		return node{}, opv.errf("want an operator (==, ~=, >, >=, <, <=, ~~, ~*, in), got %s", kindName(opv.kind))
	}
	op, ok := operators[strings.ToLower(opv.str)]
	if !ok {
		return node{}, opv.errf("unknown operator %q: one of ==, ~= (not equal), >, >=, <, <=, ~~ (regular expression), ~* (regular expression, any case), in (comma-separated list)", opv.str)
	}
	n.op = op
	switch op {
	case OpEq, OpNe:
		switch val.kind {
		case 's':
			n.str = val.str
		case 'n':
			f, ok := parseNumber(string(val.num))
			if !ok {
				return node{}, val.errf("the number %s is out of range", val.num)
			}
			n.num, n.numeric, n.str = f, true, string(val.num)
		default:
			return node{}, val.errf("%s compares with a string or a number, got %s", opv.str, kindName(val.kind))
		}
	case OpGt, OpGe, OpLt, OpLe:
		var text string
		switch val.kind {
		case 's':
			text = val.str
		case 'n':
			text = string(val.num)
		default:
			return node{}, val.errf("%s compares with a number, got %s", opv.str, kindName(val.kind))
		}
		f, ok := parseNumber(text)
		if !ok {
			return node{}, val.errf("%s compares with a number, got %q", opv.str, text)
		}
		n.num, n.numeric, n.str = f, true, text
	case OpMatch, OpMatchFold:
		if val.kind != 's' {
			return node{}, val.errf("%s takes a regular expression (a string), got %s", opv.str, kindName(val.kind))
		}
		pat := val.str
		if op == OpMatchFold {
			pat = "(?i)" + pat
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return node{}, val.errf("invalid regular expression (RE2 syntax; no lookarounds or backreferences): %v", err)
		}
		n.re, n.str = re, val.str
	case OpIn:
		switch val.kind {
		case 's':
			for _, s := range strings.Split(val.str, ",") {
				if s = strings.TrimSpace(s); s == "" {
					return node{}, val.errf("in: empty item in the list %q", val.str)
				}
				n.set = append(n.set, s)
			}
			n.str = val.str
		case '[':
			if len(val.items) == 0 {
				return node{}, val.errf("in: the list is empty")
			}
			for _, x := range val.items {
				switch x.kind {
				case 's':
					n.set = append(n.set, x.str)
				case 'n':
					n.set = append(n.set, string(x.num))
				default:
					return node{}, x.errf("in: list items are strings or numbers, got %s", kindName(x.kind))
				}
			}
			n.list = true
		default:
			return node{}, val.errf("in takes a comma-separated list or an array, got %s", kindName(val.kind))
		}
	}
	return n, nil
}

func (c *compiler) addParam(p value) {
	for _, q := range c.params {
		if q == p.str {
			return
		}
	}
	c.params = append(c.params, p.str)
	c.at = append(c.at, value{path: p.path, off: p.off})
}
