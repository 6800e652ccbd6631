package translate

import (
	"fmt"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	uritmatchv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"

	"github.com/apigw/apigw/model"
)

// Route match classes, in APIG priority order
// (docs/apig-semantics.md#route-priority).
const (
	classExact = iota
	classTemplate
	classGreedy
	classPrefix
)

// How a frontendMatch matches the path.
const (
	kindPath      = iota // RouteMatch.path (exact literal)
	kindSepPrefix        // path_separated_prefix
	kindRoot             // prefix "/" (SWA on the root)
	kindTemplate         // uri-template path_match_policy
)

const templateMatcherName = "envoy.path.match.uri_template.uri_template_matcher"

// frontendMatch is one way an API's frontend path is matched; a prefix
// API with path parameters needs two (the bare template and the template
// followed by a remainder).
type frontendMatch struct {
	kind     int
	path     string            // path, prefix or template
	vars     map[string]string // APIG parameter → Envoy variable
	tvars    []string          // Envoy variables of the template
	rest     string            // Envoy variable holding the remainder
	template *routev3.RouteMatch
}

// frontend is the parsed frontend path of an API with its Envoy matches
// and its place in the route order.
type frontend struct {
	class   int
	segs    []model.Segment
	matches []frontendMatch
}

// parseFrontend maps an API's req_uri and match_mode onto Envoy path
// matches: exact → path; SWA → path_separated_prefix (segment-aware, so
// /test/AA never matches /test/AACC); {p} → {p} and {p+} → {p=**} URI
// templates, checked against Envoy's template rules.
func parseFrontend(api model.PathTemplate, uri, mode string) (*frontend, error) {
	f := &frontend{segs: api.Segments}
	prefix := mode == model.MatchPrefix
	switch {
	case !api.Templated() && !prefix:
		f.class = classExact
		f.matches = []frontendMatch{{kind: kindPath, path: uri}}
		return f, nil
	case !api.Templated():
		f.class = classPrefix
		p := strings.TrimSuffix(uri, "/")
		if p == "" {
			f.matches = []frontendMatch{{kind: kindRoot, path: "/"}}
		} else {
			f.matches = []frontendMatch{{kind: kindSepPrefix, path: p}}
		}
		return f, nil
	}
	vars := map[string]string{}
	used := map[string]bool{}
	var b strings.Builder
	for i, s := range api.Segments {
		b.WriteByte('/')
		if s.Param == "" {
			b.WriteString(s.Literal)
			continue
		}
		name := s.Param
		if !validVarName(name) || used[name] {
			name = "p" + strconv.Itoa(i)
			for used[name] {
				name += "_"
			}
		}
		used[name] = true
		vars[s.Param] = name
		if s.Greedy {
			b.WriteString("{" + name + "=**}")
		} else {
			b.WriteString("{" + name + "}")
		}
	}
	base := b.String()
	switch {
	case api.Greedy:
		f.class = classGreedy
	case prefix:
		f.class = classPrefix
	default:
		f.class = classTemplate
	}
	m, err := newTemplateMatch(base, vars, "")
	if err != nil {
		return nil, err
	}
	f.matches = []frontendMatch{m}
	if prefix && !api.Greedy {
		rest := "rest"
		for used[rest] {
			rest += "_"
		}
		m, err := newTemplateMatch(strings.TrimSuffix(base, "/")+"/{"+rest+"=**}", vars, rest)
		if err != nil {
			return nil, err
		}
		f.matches = append(f.matches, m)
	}
	return f, nil
}

func newTemplateMatch(tmpl string, vars map[string]string, rest string) (frontendMatch, error) {
	tvars, err := checkMatchTemplate(tmpl)
	if err != nil {
		return frontendMatch{}, err
	}
	cfg, err := toAny(&uritmatchv3.UriTemplateMatchConfig{PathTemplate: tmpl})
	if err != nil {
		return frontendMatch{}, err
	}
	return frontendMatch{
		kind: kindTemplate, path: tmpl, vars: vars, tvars: tvars, rest: rest,
		template: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathMatchPolicy{
			PathMatchPolicy: &corev3.TypedExtensionConfig{Name: templateMatcherName, TypedConfig: cfg},
		}},
	}, nil
}

// routeMatch returns a fresh RouteMatch with the path part of m.
func (m frontendMatch) routeMatch() *routev3.RouteMatch {
	switch m.kind {
	case kindPath:
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: m.path}}
	case kindSepPrefix:
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: m.path}}
	case kindRoot:
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}
	case kindTemplate:
		return &routev3.RouteMatch{PathSpecifier: m.template.PathSpecifier}
	}
	panic(fmt.Sprintf("unknown match kind %d", m.kind))
}
