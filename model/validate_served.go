package model

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// validateServed refuses the parts of an API the data plane cannot serve.
// Everything the admin API accepts must be served: these are checked when
// a definition is written, never discovered when it is published
// (docs/apig-semantics.md#what-apigw-refuses).
func validateServed(c checker, a *apigwv1.Api, tmpl PathTemplate, pathOK bool) {
	for _, f := range ClientSSLFields(a) {
		if backendProtocol(a, f) != ProtoHTTPS {
			c.add(f, "needs req_protocol HTTPS: a client certificate is presented over TLS")
		}
	}
	if pathOK {
		if err := CheckEnvoyTemplate(tmpl, a.MatchMode == MatchPrefix); err != nil {
			c.add("req_uri", "%v", err)
		}
	}
}

// Envoy's URI template rules (envoy.path.match.uri_template): at most 5
// variables, names of at most 16 [a-zA-Z0-9_] starting with a letter,
// templates of at most 256 characters, literal segments of RFC 3986 pchar
// without "*".
const (
	envoyTemplateVars   = 5
	envoyTemplateVarLen = 16
	envoyTemplateLen    = 256
)

var (
	reEnvoyTemplateVar     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	reEnvoyTemplateLiteral = regexp.MustCompile(`^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$`)
)

// CheckEnvoyTemplate refuses a frontend path with parameters that Envoy's
// URI templates cannot match. The translator maps {p} onto {p} and {p+}
// onto {p=**}, renaming a parameter whose name Envoy refuses to p<index>;
// a prefix match (match_mode SWA) without a greedy parameter adds a
// variable holding the remainder. Paths without parameters are matched
// without templates and always pass.
func CheckEnvoyTemplate(t PathTemplate, prefix bool) error {
	if !t.Templated() {
		return nil
	}
	n := len(t.Params())
	if prefix && !t.Greedy {
		n++
		if n > envoyTemplateVars {
			return fmt.Errorf("has %d path parameters; Envoy's URI templates allow at most %d, and a prefix match (match_mode SWA) uses one for the rest of the path", n-1, envoyTemplateVars-1)
		}
	}
	if n > envoyTemplateVars {
		return fmt.Errorf("has %d path parameters; Envoy's URI templates allow at most %d", n, envoyTemplateVars)
	}
	used := map[string]bool{}
	var b strings.Builder
	for i, s := range t.Segments {
		b.WriteByte('/')
		if s.Param == "" {
			if !reEnvoyTemplateLiteral.MatchString(s.Literal) {
				return fmt.Errorf("segment %q has a character Envoy's URI templates do not accept in a path with parameters (such as *)", s.Literal)
			}
			b.WriteString(s.Literal)
			continue
		}
		name := s.Param
		if len(name) > envoyTemplateVarLen || !reEnvoyTemplateVar.MatchString(name) || used[name] {
			name = "p" + strconv.Itoa(i)
			for used[name] {
				name += "_"
			}
		}
		used[name] = true
		if s.Greedy {
			b.WriteString("{" + name + "=**}")
		} else {
			b.WriteString("{" + name + "}")
		}
	}
	tmpl := b.String()
	if prefix && !t.Greedy {
		rest := "rest"
		for used[rest] {
			rest += "_"
		}
		tmpl = strings.TrimSuffix(tmpl, "/") + "/{" + rest + "=**}"
	}
	if len(tmpl) > envoyTemplateLen {
		return fmt.Errorf("is matched with the Envoy URI template %q, longer than the %d characters Envoy allows", tmpl, envoyTemplateLen)
	}
	return nil
}

// BackendMethodChange returns the method an HTTP backend is called with
// when it is not the client's: the backend's req_method unless that is
// empty, ANY or the frontend's req_method ("" then: the client's method is
// forwarded). With an ANY frontend the client's method may already be the
// backend's; the data plane changes the method only when it differs.
func BackendMethodChange(frontend, backend string) string {
	if backend == "" || backend == MethodAny || backend == frontend {
		return ""
	}
	return backend
}

// backendProtocol is the req_protocol of the backend a ClientSSLFields
// path names.
func backendProtocol(a *apigwv1.Api, field string) string {
	if field == "backend_api.enable_client_ssl" {
		return a.GetBackendApi().GetReqProtocol()
	}
	for i, p := range a.PolicyHttps {
		if field == index("policy_https", i)+".enable_client_ssl" {
			return p.ReqProtocol
		}
	}
	return ""
}
