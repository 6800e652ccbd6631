package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Violation is one broken rule, named by its field path
// ("backend_api.timeout").
type Violation struct {
	Field       string
	Description string
}

func (v Violation) String() string {
	if v.Field == "" {
		return v.Description
	}
	return v.Field + ": " + v.Description
}

// Violations collects every broken rule of a definition.
type Violations []Violation

// Add records a violation of field.
func (vs *Violations) Add(field, format string, args ...any) {
	*vs = append(*vs, Violation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// Merge appends others, prefixing their fields with prefix.
func (vs *Violations) Merge(prefix string, others Violations) {
	for _, o := range others {
		*vs = append(*vs, Violation{Field: join(prefix, o.Field), Description: o.Description})
	}
}

// Err returns nil when there is no violation, else a *ValidationError.
func (vs Violations) Err() error {
	if len(vs) == 0 {
		return nil
	}
	return &ValidationError{Violations: vs}
}

// ValidationError is a definition refused for one or more violations.
type ValidationError struct {
	Violations Violations
}

func (e *ValidationError) Error() string {
	shown, more := e.Violations.Capped()
	parts := make([]string, len(shown), len(shown)+1)
	for i, v := range shown {
		parts[i] = v.String()
	}
	if more > 0 {
		parts = append(parts, MoreViolations(more, len(e.Violations)))
	}
	return "invalid definition: " + strings.Join(parts, "; ")
}

// MaxReportedViolations bounds the violations an error lists; the rest
// are counted.
const MaxReportedViolations = 100

// Capped returns the first MaxReportedViolations violations and how many
// more there are.
func (vs Violations) Capped() (Violations, int) {
	if len(vs) <= MaxReportedViolations {
		return vs, 0
	}
	return vs[:MaxReportedViolations], len(vs) - MaxReportedViolations
}

// MoreViolations describes the violations left out of a report.
func MoreViolations(more, total int) string {
	return fmt.Sprintf("… and %d more violations (%d in all; the first %d are listed)", more, total, MaxReportedViolations)
}

// AsValidation returns the violations carried by err, if any.
func AsValidation(err error) (Violations, bool) {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Violations, true
	}
	return nil, false
}

func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case strings.HasPrefix(field, "["):
		return prefix + field
	}
	return prefix + "." + field
}

func index(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// checker is a small helper for validators: it carries the current field
// prefix and the collected violations.
type checker struct {
	prefix string
	vs     *Violations
}

func newChecker(vs *Violations, prefix string) checker { return checker{prefix: prefix, vs: vs} }

func (c checker) at(field string) checker { return checker{prefix: join(c.prefix, field), vs: c.vs} }

func (c checker) idx(field string, i int) checker {
	return checker{prefix: index(join(c.prefix, field), i), vs: c.vs}
}

func (c checker) add(field, format string, args ...any) {
	c.vs.Add(join(c.prefix, field), format, args...)
}

func (c checker) required(field, v string) bool {
	if v == "" {
		c.add(field, "is required")
		return false
	}
	return true
}

func (c checker) maxLen(field, v string, n int) {
	if l := len([]rune(v)); l > n {
		c.add(field, "must be at most %d characters (got %d)", n, l)
	}
}

func (c checker) oneOf(field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.add(field, "must be one of %s (got %q)", strings.Join(allowed, ", "), v)
}

func (c checker) rangeInt(field string, v, lo, hi int64) {
	if v < lo || v > hi {
		c.add(field, "must be between %d and %d (got %d)", lo, hi, v)
	}
}
