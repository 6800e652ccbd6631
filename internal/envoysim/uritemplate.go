package envoysim

import (
	"fmt"
	"regexp"
	"strings"
)

// Envoy's URI-template matcher (envoy.path.match.uri_template): "*" matches
// one path segment of pchars, "**" any number of segments (possibly none);
// {name} is {name=*}.
const (
	pchars      = `[a-zA-Z0-9\-._~%!$&'()+,;:@=]`
	oneSegment  = pchars + `+`
	anySegments = `[a-zA-Z0-9\-._~%!$&'()+,;:@=/]*`
)

// uriTemplate is a compiled path template.
type uriTemplate struct {
	re    *regexp.Regexp
	names []string
}

var reVariable = regexp.MustCompile(`\{([^}=]+)(?:=([^}]*))?\}`)

func compileURITemplate(tpl string) (*uriTemplate, error) {
	if !strings.HasPrefix(tpl, "/") {
		return nil, fmt.Errorf("uri template %q must start with /", tpl)
	}
	var b strings.Builder
	t := &uriTemplate{}
	last := 0
	for _, m := range reVariable.FindAllStringSubmatchIndex(tpl, -1) {
		b.WriteString(literalTemplate(tpl[last:m[0]]))
		name := tpl[m[2]:m[3]]
		pattern := "*"
		if m[4] >= 0 {
			pattern = tpl[m[4]:m[5]]
		}
		b.WriteString("(" + literalTemplate(pattern) + ")")
		t.names = append(t.names, name)
		last = m[1]
	}
	b.WriteString(literalTemplate(tpl[last:]))
	re, err := regexp.Compile("^" + b.String() + "$")
	if err != nil {
		return nil, fmt.Errorf("uri template %q: %w", tpl, err)
	}
	t.re = re
	return t, nil
}

// literalTemplate converts a template piece outside variables: "**" and
// "*" are wildcards, everything else is literal.
func literalTemplate(s string) string {
	var b strings.Builder
	for s != "" {
		switch {
		case strings.HasPrefix(s, "**"):
			b.WriteString(anySegments)
			s = s[2:]
		case s[0] == '*':
			b.WriteString(oneSegment)
			s = s[1:]
		default:
			i := strings.IndexByte(s, '*')
			if i < 0 {
				i = len(s)
			}
			b.WriteString(regexp.QuoteMeta(s[:i]))
			s = s[i:]
		}
	}
	return b.String()
}

// match returns the variables of path, or nil when it does not match.
func (t *uriTemplate) match(path string) map[string]string {
	m := t.re.FindStringSubmatch(path)
	if m == nil {
		return nil
	}
	vars := map[string]string{}
	for i, n := range t.names {
		vars[n] = m[i+1]
	}
	return vars
}

// rewriteURITemplate fills a rewrite template ("/v1/{id}") with the
// variables the match template captured.
func rewriteURITemplate(rewrite string, vars map[string]string) (string, error) {
	var err error
	out := reVariable.ReplaceAllStringFunc(rewrite, func(v string) string {
		name := strings.Trim(v, "{}")
		val, ok := vars[name]
		if !ok {
			err = fmt.Errorf("rewrite template %q: variable %q is not captured", rewrite, name)
		}
		return val
	})
	return out, err
}
