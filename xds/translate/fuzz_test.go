package translate

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/model"
)

// FuzzPathTemplate parses APIG frontend paths as the admin API does and
// maps the accepted ones onto Envoy path matches as the translator does.
// An accepted path must round-trip through its segments, and every URI
// template the translator emits must pass Envoy's template rules with one
// variable per path parameter (plus the remainder of a prefix match), so
// that a path the admin API accepts is never one Envoy rejects; and the
// translator matches exactly the paths model.CheckEnvoyTemplate accepts,
// so that none is accepted when written and left out when published.
//
// Seed corpus: testdata/fuzz/FuzzPathTemplate. Run it with
//
//	go test ./xds/translate -run '^$' -fuzz FuzzPathTemplate -fuzztime 30s
func FuzzPathTemplate(f *testing.F) {
	for _, s := range []string{"/", "/pets", "/pets/", "/pets/{id}", "/a/{b}/c/{d+}", "/{a}/{b}/{c}/{d}/{e}/{f}", "/x/{user-id}", "/x/{1}", "/{a}/{a}", "/a{b}", "/a//b", "/a*/{b}", "/{a}/{b}/{c}/{d}/{e}", "/{p1}/{a.b}/{p1x}"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, uri string, prefix bool) {
		p, err := model.ParseFrontendPath(uri)
		if err != nil {
			return
		}
		var b strings.Builder
		seen := map[string]bool{}
		for i, s := range p.Segments {
			b.WriteString("/")
			switch {
			case s.Param == "" && (s.Literal == "" || strings.ContainsAny(s.Literal, "{}/")):
				t.Fatalf("%q: bad literal segment %q", uri, s.Literal)
			case s.Param != "" && seen[s.Param]:
				t.Fatalf("%q: parameter %q twice", uri, s.Param)
			case s.Greedy && i != len(p.Segments)-1:
				t.Fatalf("%q: greedy parameter %q is not last", uri, s.Param)
			case s.Param != "" && s.Greedy:
				b.WriteString("{" + s.Param + "+}")
			case s.Param != "":
				b.WriteString("{" + s.Param + "}")
			default:
				b.WriteString(s.Literal)
			}
			seen[s.Param] = s.Param != ""
		}
		if rebuilt := b.String(); rebuilt != strings.TrimSuffix(uri, "/") && !(uri == "/" && rebuilt == "") {
			t.Fatalf("%q parsed into segments that spell %q", uri, rebuilt)
		}
		mode := model.MatchNormal
		if prefix {
			mode = model.MatchPrefix
		}
		fr, err := parseFrontend(p, uri, mode)
		verr := model.CheckEnvoyTemplate(p, prefix)
		switch {
		case err != nil && verr == nil:
			t.Fatalf("%q (prefix %v) passes validation but the translator cannot match it: %v", uri, prefix, err)
		case err != nil:
			return // refused when written
		case verr != nil:
			t.Fatalf("%q (prefix %v) is refused by validation (%v) but the translator matches it", uri, prefix, verr)
		}
		for _, m := range fr.matches {
			if m.kind != kindTemplate {
				continue
			}
			tvars, err := checkMatchTemplate(m.path)
			if err != nil {
				t.Fatalf("%q: emitted template %q fails Envoy's rules: %v", uri, m.path, err)
			}
			want := len(p.Params())
			if m.rest != "" {
				want++
			}
			if len(tvars) != want {
				t.Fatalf("%q: template %q has variables %v for parameters %v", uri, m.path, tvars, p.Params())
			}
			for _, param := range p.Params() {
				if v := m.vars[param]; v == "" || !strings.Contains(m.path, "{"+v) {
					t.Fatalf("%q: parameter %q has no variable in %q (%v)", uri, param, m.path, m.vars)
				}
			}
		}
	})
}
