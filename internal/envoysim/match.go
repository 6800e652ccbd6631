//lint:file-ignore SA1019 Envoy still honours these deprecated fields, so the emulator reads them too

package envoysim

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

var regexCache sync.Map // string → *regexp.Regexp

// fullRegexp compiles an RE2 pattern anchored at both ends, as Envoy's
// safe_regex matches the whole value.
func fullRegexp(pattern string) (*regexp.Regexp, error) {
	if re, ok := regexCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", pattern, err)
	}
	regexCache.Store(pattern, re)
	return re, nil
}

// matchString applies a StringMatcher.
func matchString(m *matcherv3.StringMatcher, v string) (bool, error) {
	fold := m.GetIgnoreCase()
	eq := func(a, b string) bool { return a == b || fold && strings.EqualFold(a, b) }
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return eq(v, p.Exact), nil
	case *matcherv3.StringMatcher_Prefix:
		return len(v) >= len(p.Prefix) && eq(v[:len(p.Prefix)], p.Prefix), nil
	case *matcherv3.StringMatcher_Suffix:
		return len(v) >= len(p.Suffix) && eq(v[len(v)-len(p.Suffix):], p.Suffix), nil
	case *matcherv3.StringMatcher_Contains:
		if fold {
			return strings.Contains(strings.ToLower(v), strings.ToLower(p.Contains)), nil
		}
		return strings.Contains(v, p.Contains), nil
	case *matcherv3.StringMatcher_SafeRegex:
		re, err := fullRegexp(p.SafeRegex.GetRegex())
		if err != nil {
			return false, err
		}
		return re.MatchString(v), nil
	default:
		return false, fmt.Errorf("string matcher %T is not emulated", p)
	}
}

// matchHeader applies a HeaderMatcher the way Envoy's HeaderUtility does:
// repeated headers are joined with ","; a missing header matches only a
// negative present_match (unless treat_missing_header_as_empty).
func matchHeader(m *routev3.HeaderMatcher, h *Headers) (bool, error) {
	v, ok := h.Joined(m.GetName())
	if !ok && !m.GetTreatMissingHeaderAsEmpty() {
		pm, isPresent := m.GetHeaderMatchSpecifier().(*routev3.HeaderMatcher_PresentMatch)
		if !isPresent {
			return false, nil
		}
		if m.GetInvertMatch() {
			return pm.PresentMatch, nil
		}
		return !pm.PresentMatch, nil
	}
	var match bool
	var err error
	switch s := m.GetHeaderMatchSpecifier().(type) {
	case nil:
		match = true
	case *routev3.HeaderMatcher_PresentMatch:
		match = s.PresentMatch
	case *routev3.HeaderMatcher_StringMatch:
		match, err = matchString(s.StringMatch, v)
	case *routev3.HeaderMatcher_ExactMatch:
		match = v == s.ExactMatch
	case *routev3.HeaderMatcher_PrefixMatch:
		match = strings.HasPrefix(v, s.PrefixMatch)
	case *routev3.HeaderMatcher_SuffixMatch:
		match = strings.HasSuffix(v, s.SuffixMatch)
	case *routev3.HeaderMatcher_ContainsMatch:
		match = strings.Contains(v, s.ContainsMatch)
	case *routev3.HeaderMatcher_SafeRegexMatch:
		var re *regexp.Regexp
		if re, err = fullRegexp(s.SafeRegexMatch.GetRegex()); err == nil {
			match = re.MatchString(v)
		}
	default:
		return false, fmt.Errorf("header matcher %T is not emulated", s)
	}
	if err != nil {
		return false, err
	}
	return match != m.GetInvertMatch(), nil
}

// matchQuery applies a QueryParameterMatcher to the decoded query (first
// value of a repeated parameter).
func matchQuery(m *routev3.QueryParameterMatcher, rawQuery string) (bool, error) {
	vs, err := url.ParseQuery(rawQuery)
	if err != nil {
		vs = url.Values{}
		for _, kv := range strings.Split(rawQuery, "&") {
			k, v, _ := strings.Cut(kv, "=")
			vs.Add(k, v)
		}
	}
	if !vs.Has(m.GetName()) {
		return false, nil
	}
	switch s := m.GetQueryParameterMatchSpecifier().(type) {
	case *routev3.QueryParameterMatcher_PresentMatch:
		return s.PresentMatch, nil
	case *routev3.QueryParameterMatcher_StringMatch:
		return matchString(s.StringMatch, vs.Get(m.GetName()))
	default:
		return false, fmt.Errorf("query parameter matcher %T is not emulated", s)
	}
}
