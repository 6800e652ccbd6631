package translate

import (
	"fmt"
	"regexp"
	"strings"
)

// Envoy's URI-template rules (extensions/path/uri_template_lib), which PGV
// does not check: a template Envoy would reject NACKs the whole
// RouteConfiguration, so every template is checked here first.
const (
	maxTemplateVars   = 5
	maxTemplateVarLen = 16
	maxTemplateLen    = 256
)

var (
	reTemplateVar = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	// Literal characters of a template segment (RFC 3986 pchar without "*").
	reTemplateLiteral = regexp.MustCompile(`^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$`)
)

// validVarName reports whether Envoy accepts name as a template variable.
func validVarName(name string) bool {
	return len(name) <= maxTemplateVarLen && reTemplateVar.MatchString(name)
}

// checkMatchTemplate checks a path_match_policy template the way Envoy
// parses it: literal segments, {v} (one segment) and a trailing {v=**}.
// It returns the variable names in order.
func checkMatchTemplate(t string) ([]string, error) {
	if len(t) > maxTemplateLen {
		return nil, fmt.Errorf("path template %q is longer than %d characters", t, maxTemplateLen)
	}
	if !strings.HasPrefix(t, "/") {
		return nil, fmt.Errorf("path template %q must start with /", t)
	}
	segs := strings.Split(t[1:], "/")
	var vars []string
	seen := map[string]bool{}
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case s == "":
			return nil, fmt.Errorf("path template %q has an empty segment", t)
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name, glob, _ := strings.Cut(s[1:len(s)-1], "=")
			switch glob {
			case "", "*":
			case "**":
				if !last {
					return nil, fmt.Errorf("path template %q: {%s=**} must be the last segment", t, name)
				}
			default:
				return nil, fmt.Errorf("path template %q: unsupported glob %q", t, glob)
			}
			if !validVarName(name) {
				return nil, fmt.Errorf("path template %q: variable name %q must be 1-%d of [a-zA-Z0-9_] starting with a letter", t, name, maxTemplateVarLen)
			}
			if seen[name] {
				return nil, fmt.Errorf("path template %q: variable %q appears twice", t, name)
			}
			seen[name] = true
			vars = append(vars, name)
		case strings.ContainsAny(s, "{}"):
			return nil, fmt.Errorf("path template %q: segment %q mixes a variable with literal text", t, s)
		case !reTemplateLiteral.MatchString(s):
			return nil, fmt.Errorf("path template %q: segment %q has characters Envoy does not accept", t, s)
		}
	}
	if len(vars) > maxTemplateVars {
		return nil, fmt.Errorf("path template %q has %d variables; Envoy allows %d", t, len(vars), maxTemplateVars)
	}
	return vars, nil
}

// checkRewriteTemplate checks a path_rewrite_policy template: literal text
// and {v} references to variables of the match template.
func checkRewriteTemplate(t string, vars []string) error {
	if len(t) > maxTemplateLen {
		return fmt.Errorf("rewrite template %q is longer than %d characters", t, maxTemplateLen)
	}
	if !strings.HasPrefix(t, "/") {
		return fmt.Errorf("rewrite template %q must start with /", t)
	}
	known := map[string]bool{}
	for _, v := range vars {
		known[v] = true
	}
	rest := t
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		lit := rest
		if open >= 0 {
			lit = rest[:open]
		}
		for _, part := range strings.Split(lit, "/") {
			if part != "" && !reTemplateLiteral.MatchString(part) {
				return fmt.Errorf("rewrite template %q: %q has characters Envoy does not accept", t, part)
			}
		}
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return fmt.Errorf("rewrite template %q: unterminated variable", t)
		}
		name := rest[open+1 : open+end]
		if !known[name] {
			return fmt.Errorf("rewrite template %q: variable %q is not captured by the match template", t, name)
		}
		rest = rest[open+end+1:]
	}
	return nil
}
