package openapi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Problem is a refused or suspicious node of an OpenAPI document, named by
// its JSON pointer (RFC 6901).
type Problem struct {
	Pointer string
	Message string
}

func (p Problem) String() string {
	ptr := p.Pointer
	if ptr == "" {
		ptr = "/"
	}
	return ptr + ": " + p.Message
}

// Problems collects the errors and warnings of an import.
type Problems struct {
	Errors   []Problem
	Warnings []Problem
}

func (ps *Problems) errorf(ptr, format string, args ...any) {
	ps.Errors = append(ps.Errors, Problem{Pointer: ptr, Message: fmt.Sprintf(format, args...)})
}

func (ps *Problems) warnf(ptr, format string, args ...any) {
	ps.Warnings = append(ps.Warnings, Problem{Pointer: ptr, Message: fmt.Sprintf(format, args...)})
}

// InvalidError is an OpenAPI document refused for one or more problems.
type InvalidError struct {
	File     string
	Problems []Problem
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s), nothing was imported:", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// ptr appends reference tokens to a JSON pointer, escaping them.
func ptr(base string, tokens ...any) string {
	var b strings.Builder
	b.WriteString(base)
	for _, t := range tokens {
		b.WriteByte('/')
		var s string
		switch v := t.(type) {
		case int:
			s = strconv.Itoa(v)
		default:
			s = fmt.Sprint(v)
		}
		s = strings.ReplaceAll(s, "~", "~0")
		s = strings.ReplaceAll(s, "/", "~1")
		b.WriteString(s)
	}
	return b.String()
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Pointer < ps[j].Pointer })
}
