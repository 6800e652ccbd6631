package openapi

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// obj is a decoded JSON object (an extension value) with the JSON pointer
// it was found at. Its getters record a problem when a value has the wrong
// type and remember which keys were read, so that unknown keys can be
// reported.
type obj struct {
	ptr  string
	m    map[string]any
	used map[string]bool
	ps   *Problems
}

func asObj(ps *Problems, p string, v any) (*obj, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		ps.errorf(p, "must be an object (got %s)", typeName(v))
		return nil, false
	}
	return &obj{ptr: p, m: m, used: map[string]bool{}, ps: ps}, true
}

// key finds a key, trying the given spellings and then any spelling that
// differs only in case, "-" or "_".
func (o *obj) key(names ...string) (string, any, bool) {
	for _, n := range names {
		if v, ok := o.m[n]; ok {
			o.used[n] = true
			return n, v, true
		}
	}
	for k, v := range o.m {
		for _, n := range names {
			if fold(k) == fold(n) {
				o.used[k] = true
				return k, v, true
			}
		}
	}
	return "", nil, false
}

func fold(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s))
}

// str returns a string value; numbers and booleans are accepted as their
// text (exports write "5000" and 5000 alike).
func (o *obj) str(names ...string) string {
	k, v, ok := o.key(names...)
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	o.ps.errorf(ptr(o.ptr, k), "must be a string (got %s)", typeName(v))
	return ""
}

// num returns an integer value given as a number or a numeric string; ok
// is false when absent or empty. Every integer of apigw's model is 32-bit:
// a value beyond is refused here rather than wrapped later.
func (o *obj) num(names ...string) (int64, bool) {
	k, v, present := o.key(names...)
	if !present || v == nil {
		return 0, false
	}
	n, ok := toInt(o.ps, ptr(o.ptr, k), v)
	if ok && (n < math.MinInt32 || n > math.MaxInt32) {
		o.ps.errorf(ptr(o.ptr, k), "is out of range (got %d)", n)
		return 0, false
	}
	return n, ok
}

func toInt(ps *Problems, p string, v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) {
			ps.errorf(p, "must be an integer (got %v)", x)
			return 0, false
		}
		return int64(x), true
	case string:
		if strings.TrimSpace(x) == "" {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			ps.errorf(p, "must be an integer (got %q)", x)
			return 0, false
		}
		return n, true
	}
	ps.errorf(p, "must be an integer (got %s)", typeName(v))
	return 0, false
}

// boolean returns a boolean given as true/false or "true"/"false".
func (o *obj) boolean(names ...string) (bool, bool) {
	k, v, present := o.key(names...)
	if !present || v == nil {
		return false, false
	}
	return toBool(o.ps, ptr(o.ptr, k), v)
}

func toBool(ps *Problems, p string, v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, true
		case "false":
			return false, true
		case "":
			return false, false
		}
	}
	ps.errorf(p, "must be true or false (got %v)", v)
	return false, false
}

// enum returns an upper- or lower-cased string that must be one of
// allowed (compared case-insensitively); "" when absent.
func (o *obj) enum(names []string, allowed ...string) string {
	k, v, present := o.key(names...)
	if !present || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		o.ps.errorf(ptr(o.ptr, k), "must be one of %s (got %s)", strings.Join(allowed, ", "), typeName(v))
		return ""
	}
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a
		}
	}
	if s == "" {
		return ""
	}
	o.ps.errorf(ptr(o.ptr, k), "must be one of %s (got %q)", strings.Join(allowed, ", "), s)
	return ""
}

func (o *obj) list(names ...string) ([]any, string) {
	k, v, present := o.key(names...)
	if !present || v == nil {
		return nil, ""
	}
	l, ok := v.([]any)
	if !ok {
		o.ps.errorf(ptr(o.ptr, k), "must be an array (got %s)", typeName(v))
		return nil, ""
	}
	return l, ptr(o.ptr, k)
}

func (o *obj) object(names ...string) *obj {
	k, v, present := o.key(names...)
	if !present || v == nil {
		return nil
	}
	c, ok := asObj(o.ps, ptr(o.ptr, k), v)
	if !ok {
		return nil
	}
	return c
}

func (o *obj) strings(names ...string) []string {
	l, p := o.list(names...)
	var out []string
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			o.ps.errorf(ptr(p, i), "must be a string (got %s)", typeName(v))
			continue
		}
		out = append(out, s)
	}
	return out
}

// unknown warns about every key that was not read.
func (o *obj) unknown(what string) {
	var keys []string
	for k := range o.m {
		if !o.used[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		o.ps.warnf(ptr(o.ptr, k), "unknown key of %s; ignored", what)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// namedObjects calls fn, in name order, for each entry of the map of named
// objects at p (x-apigateway-ratelimits, -access-controls, -responses,
// -plugins); an entry that is not an object is reported and skipped.
func (c *converter) namedObjects(p string, v any, fn func(name string, o *obj)) {
	o, ok := asObj(c.ps, p, v)
	if !ok {
		return
	}
	for _, name := range sortedKeys(o.m) {
		o.used[name] = true
		if eo, ok := asObj(c.ps, ptr(p, name), o.m[name]); ok {
			fn(name, eo)
		}
	}
}
