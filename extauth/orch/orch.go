// Package orch evaluates parameter orchestration rules
// (docs/apig-semantics.md#orchestration-rules): the rules bound to one
// request parameter, in their order, map its value to the mapped
// parameter. It is pure and allocation-light; ext_authz compiles a Chain
// per published API and evaluates it per request.
package orch

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"unicode/utf8"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Result is the outcome of an evaluation.
type Result int

const (
	// Mapped: the mapped parameter has a value.
	Mapped Result = iota
	// ParamNotFound: the input is absent or empty and no none_value rule
	// is bound (gateway response ORCHESTRATION_PARAMETER_NOT_FOUND).
	ParamNotFound
	// Failure: no rule matched and no default rule is bound, or the
	// output is not a number for a number parameter (ORCHESTRATION_FAILURE).
	Failure
)

type entry struct {
	list   map[string]bool
	lo, hi int64
	value  string
	n      int
}

type rule struct {
	strategy string
	pre      bool
	entries  []entry
}

// Chain is the compiled rules of one parameter.
type Chain struct {
	rules     []rule // in order, without none_value and default
	none, def *rule
	number    bool
	// Name and Loc are the mapped parameter's name and location ("header"
	// or "query").
	Name, Loc string
}

// Compile prepares the rules bound to one parameter, in their order.
func Compile(rules []*apigwv1.Orchestration) (*Chain, error) {
	if probs := model.OrchestrationChainProblems(rules); len(probs) > 0 {
		return nil, fmt.Errorf("orchestration rules: %s", probs[0])
	}
	c := &Chain{}
	if mp := model.MappedParam(rules); mp != nil {
		c.Name, c.Loc, c.number = mp.MappedParamName, mp.MappedParamLocation, mp.MappedParamType == "number"
	}
	for _, o := range rules {
		r := rule{strategy: o.OrchestrationStrategy, pre: o.IsPreprocessing}
		for _, e := range o.OrchestrationMap {
			ce := entry{value: e.MappedParamValue, n: int(e.InterceptLength)}
			if len(e.MapParamList) > 0 {
				ce.list = make(map[string]bool, len(e.MapParamList))
				for _, v := range e.MapParamList {
					ce.list[v] = true
				}
			}
			if rg := e.MapParamRange; rg != nil {
				lo, ok1 := model.ParseOrchRange(rg.RangeStart)
				hi, ok2 := model.ParseOrchRange(rg.RangeEnd)
				if !ok1 || !ok2 {
					return nil, fmt.Errorf("orchestration rule %s: bad range", o.OrchestrationName)
				}
				ce.lo, ce.hi = lo, hi
			}
			r.entries = append(r.entries, ce)
		}
		switch r.strategy {
		case model.OrchNoneValue:
			c.none = &r
		case model.OrchDefault:
			c.def = &r
		default:
			c.rules = append(c.rules, r)
		}
	}
	return c, nil
}

// Hash is the hash of the hash and hash_range strategies, which APIG does
// not document: FNV-1a (64 bits) of the value's UTF-8 bytes with the top
// bit cleared, a non-negative int64. hash rules output it in decimal.
func Hash(s string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return int64(h.Sum64() &^ (1 << 63))
}

// apply runs one rule on a value: its output and whether it matched.
func (r *rule) apply(v string) (string, bool) {
	switch r.strategy {
	case model.OrchList:
		for i := range r.entries {
			if r.entries[i].list[v] {
				return r.entries[i].value, true
			}
		}
	case model.OrchRange:
		if n, ok := model.ParseOrchRange(v); ok {
			return r.inRange(n)
		}
	case model.OrchHash:
		return strconv.FormatInt(Hash(v), 10), true
	case model.OrchHashRange:
		return r.inRange(Hash(v))
	case model.OrchHeadN:
		return head(v, r.entries[0].n), true
	case model.OrchTailN:
		return tail(v, r.entries[0].n), true
	}
	return "", false
}

// head returns the first n characters of v (a substring: no copy).
func head(v string, n int) string {
	for i := range v {
		if n == 0 {
			return v[:i]
		}
		n--
	}
	return v
}

// tail returns the last n characters of v (a substring: no copy).
func tail(v string, n int) string {
	skip := utf8.RuneCountInString(v) - n
	if skip <= 0 {
		return v
	}
	for i := range v {
		if skip == 0 {
			return v[i:]
		}
		skip--
	}
	return v
}

func (r *rule) inRange(n int64) (string, bool) {
	for i := range r.entries {
		if e := &r.entries[i]; n >= e.lo && n <= e.hi {
			return e.value, true
		}
	}
	return "", false
}

// Eval maps the input parameter's value (present says whether the request
// has it, after its default): an absent or empty input takes the
// none_value rule; otherwise the rules run in order, a preprocessing rule
// replacing the working value when it matches (and leaving it when it
// does not), the first other rule that matches giving the output; the
// default rule answers when none matched.
func (c *Chain) Eval(input string, present bool) (string, Result) {
	if !present || input == "" {
		if c.none == nil {
			return "", ParamNotFound
		}
		return c.none.entries[0].value, Mapped
	}
	w := input
	for i := range c.rules {
		r := &c.rules[i]
		out, ok := r.apply(w)
		if r.pre {
			if ok {
				w = out
			}
			continue
		}
		if ok {
			return c.typed(out)
		}
	}
	if c.def != nil {
		return c.def.entries[0].value, Mapped
	}
	return "", Failure
}

// typed checks a number parameter's output (head_n and tail_n may cut
// anything).
func (c *Chain) typed(out string) (string, Result) {
	if c.number {
		if _, ok := model.ParseOrchRange(out); !ok {
			return "", Failure
		}
	}
	return out, Mapped
}
