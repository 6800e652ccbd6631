package model

import (
	"fmt"
	"regexp"
	"strings"
)

// PathTemplate is a parsed frontend path (req_uri).
type PathTemplate struct {
	// Segments are the path segments without the leading slash.
	Segments []Segment
	// Greedy is set when the last segment is {name+}.
	Greedy bool
}

// Segment is one path segment: a literal or a whole-segment parameter.
type Segment struct {
	Literal string
	Param   string
	Greedy  bool
}

// Params returns the names of the path parameters, in order.
func (p PathTemplate) Params() []string {
	var out []string
	for _, s := range p.Segments {
		if s.Param != "" {
			out = append(out, s.Param)
		}
	}
	return out
}

// Templated reports whether the path has parameters.
func (p PathTemplate) Templated() bool { return len(p.Params()) > 0 }

var (
	reFrontPathChars = regexp.MustCompile(`^[A-Za-z0-9\-_.~*%/{}+@!$&'()=;,:]*$`)
	reBraceParam     = regexp.MustCompile(`\{([^{}]*)\}`)
	reEnvVarRef      = regexp.MustCompile(`#([^#]*)#`)
)

// ParseFrontendPath parses an APIG frontend path: whole-segment {p}, and
// {p+} only as the last segment (docs/apig-semantics.md#api-paths).
func ParseFrontendPath(uri string) (PathTemplate, error) {
	var t PathTemplate
	switch {
	case uri == "":
		return t, fmt.Errorf("is required")
	case !strings.HasPrefix(uri, "/"):
		return t, fmt.Errorf("must start with /")
	case len(uri) > 512:
		return t, fmt.Errorf("must be at most 512 characters")
	case strings.ContainsAny(uri, "?#"):
		return t, fmt.Errorf("must not contain ? or #")
	case !reFrontPathChars.MatchString(uri):
		return t, fmt.Errorf("contains a character that is not allowed")
	case strings.Contains(uri, "//"):
		return t, fmt.Errorf("must not contain empty segments (//)")
	}
	if err := checkPathEscapes(uri); err != nil {
		return t, err
	}
	if uri == "/" {
		return t, nil
	}
	parts := strings.Split(strings.TrimPrefix(uri, "/"), "/")
	seen := map[string]bool{}
	for i, part := range parts {
		if part == "" { // trailing slash
			continue
		}
		if part == "." || part == ".." {
			return t, fmt.Errorf("must not contain . or .. segments (Envoy resolves them before matching, so the route would never match)")
		}
		if !strings.ContainsAny(part, "{}") {
			t.Segments = append(t.Segments, Segment{Literal: part})
			continue
		}
		if !strings.HasPrefix(part, "{") || !strings.HasSuffix(part, "}") || strings.Count(part, "{") != 1 || strings.Count(part, "}") != 1 {
			return t, fmt.Errorf("segment %q: parameters must fill a whole segment ({name} or {name+})", part)
		}
		name := part[1 : len(part)-1]
		greedy := strings.HasSuffix(name, "+")
		name = strings.TrimSuffix(name, "+")
		if !reParamName.MatchString(name) {
			return t, fmt.Errorf("segment %q: parameter name must be 1-32 of [A-Za-z0-9._-] starting with a letter", part)
		}
		if seen[name] {
			return t, fmt.Errorf("parameter %q appears twice", name)
		}
		seen[name] = true
		if greedy && i != len(parts)-1 {
			return t, fmt.Errorf("greedy parameter {%s+} must be the last segment", name)
		}
		t.Segments = append(t.Segments, Segment{Param: name, Greedy: greedy})
		t.Greedy = greedy
	}
	return t, nil
}

// checkPathEscapes refuses percent escapes a frontend path can never be
// matched with: broken ones, encoded control bytes (%00 ...), and encoded
// dots and slashes, which Envoy decodes (or resolves) before matching.
func checkPathEscapes(uri string) error {
	for i := 0; i < len(uri); i++ {
		if uri[i] != '%' {
			continue
		}
		if i+2 >= len(uri) || unhex(uri[i+1]) < 0 || unhex(uri[i+2]) < 0 {
			return fmt.Errorf("has a broken percent escape at %q", uri[i:min(i+3, len(uri))])
		}
		switch b := unhex(uri[i+1])<<4 | unhex(uri[i+2]); {
		case b < 0x20 || b == 0x7f:
			return fmt.Errorf("must not hold an encoded control character (%s)", uri[i:i+3])
		case b == '.' || b == '/' || b == '\\':
			return fmt.Errorf("must not hold an encoded . / or \\ (%s): Envoy decodes it before matching, so the route would never match", uri[i:i+3])
		}
	}
	return nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// RouteShape is a frontend path with its parameter names left out
// ("/t/{x}" and "/t/{y}" are both "/t/{}"): paths of one shape match the
// same requests, so APIG treats them as one route.
func RouteShape(uri string) string {
	return reBraceParam.ReplaceAllStringFunc(uri, func(m string) string {
		if strings.HasSuffix(m, "+}") {
			return "{+}"
		}
		return "{}"
	})
}

// BackendPathParams returns the {name} placeholders of a backend path
// (partial segments allowed).
func BackendPathParams(uri string) []string {
	var out []string
	for _, m := range reBraceParam.FindAllStringSubmatch(uri, -1) {
		out = append(out, m[1])
	}
	return out
}

// EnvVarRefs returns the #name# variables used in s.
func EnvVarRefs(s string) []string {
	var out []string
	for _, m := range reEnvVarRef.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// ResolveEnvVars replaces every #name# in s with vars[name]; it returns the
// names that are not defined.
func ResolveEnvVars(s string, vars map[string]string) (string, []string) {
	var missing []string
	out := reEnvVarRef.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	return out, missing
}
