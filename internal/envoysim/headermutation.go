package envoysim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	matchingv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/matching/v3"
	skipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/matcher/action/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// A filter wrapped in ExtensionWithMatcher (match_delegate) runs unless its
// matcher, evaluated on the request headers, ends in SkipFilter. The
// wrapped filters emulated: header_mutation (request mutations at decode,
// response mutations when the response headers are encoded; a value whose
// formatter renders empty is not added, as in Envoy's header formatting).

// matchedFilter runs an ExtensionWithMatcher filter.
func (s *stream) matchedFilter(name string, a *anypb.Any) error {
	cfg := &matchingv3.ExtensionWithMatcher{}
	if err := unpack(a, cfg); err != nil {
		return err
	}
	if cfg.GetXdsMatcher() == nil {
		return fmt.Errorf("filter %s: only xds_matcher is emulated", name)
	}
	if readsResponse(cfg.GetXdsMatcher()) {
		// Evaluated when the response passes the filter (cache.go).
		hm := &headermutationv3.HeaderMutation{}
		if err := unpack(cfg.GetExtensionConfig().GetTypedConfig(), hm); err != nil {
			return fmt.Errorf("filter %s: %w", name, err)
		}
		s.deferred = append(s.deferred, deferredMatch{name: name, matcher: cfg.GetXdsMatcher(), hm: hm})
		return nil
	}
	skip, err := s.skipByMatcher(cfg.GetXdsMatcher())
	if err != nil {
		return fmt.Errorf("filter %s: %w", name, err)
	}
	if skip {
		s.tracef("filter %s: skipped by its matcher", name)
		return nil
	}
	inner := cfg.GetExtensionConfig().GetTypedConfig()
	if !inner.MessageIs(&headermutationv3.HeaderMutation{}) {
		return fmt.Errorf("filter %s: wrapped %s is not emulated", name, inner.GetTypeUrl())
	}
	hm := &headermutationv3.HeaderMutation{}
	if err := unpack(inner, hm); err != nil {
		return err
	}
	return s.applyMutations(name, hm.GetMutations())
}

// applyMutations applies a header_mutation filter's request mutations now
// and keeps its response mutations for the response.
func (s *stream) applyMutations(name string, m *headermutationv3.Mutations) error {
	if len(m.GetQueryParameterMutations()) > 0 || len(m.GetResponseTrailersMutations()) > 0 || len(m.GetRequestTrailersMutations()) > 0 || len(m.GetFormatters()) > 0 {
		return fmt.Errorf("filter %s: only request and response header mutations are emulated", name)
	}
	req, err := appendOptions(m.GetRequestMutations())
	if err != nil {
		return fmt.Errorf("filter %s: %w", name, err)
	}
	if err := applyHeaderOptions(s.hdr, req, s.fmtCtx(nil)); err != nil {
		return err
	}
	resp, err := appendOptions(m.GetResponseMutations())
	if err != nil {
		return fmt.Errorf("filter %s: %w", name, err)
	}
	s.respMutations = append(s.respMutations, resp...)
	return nil
}

func appendOptions(ms []*mutationrulesv3.HeaderMutation) ([]*corev3.HeaderValueOption, error) {
	out := make([]*corev3.HeaderValueOption, 0, len(ms))
	for _, m := range ms {
		a := m.GetAppend()
		if a == nil {
			return nil, fmt.Errorf("header mutation %v: only append is emulated", m)
		}
		out = append(out, a)
	}
	return out, nil
}

// readsResponse reports whether a matcher reads response headers.
func readsResponse(m *xdsmatcherv3.Matcher) bool {
	var pred func(p *xdsmatcherv3.Matcher_MatcherList_Predicate) bool
	pred = func(p *xdsmatcherv3.Matcher_MatcherList_Predicate) bool {
		switch t := p.GetMatchType().(type) {
		case *xdsmatcherv3.Matcher_MatcherList_Predicate_NotMatcher:
			return pred(t.NotMatcher)
		case *xdsmatcherv3.Matcher_MatcherList_Predicate_OrMatcher:
			return slices.ContainsFunc(t.OrMatcher.GetPredicate(), pred)
		case *xdsmatcherv3.Matcher_MatcherList_Predicate_AndMatcher:
			return slices.ContainsFunc(t.AndMatcher.GetPredicate(), pred)
		case *xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_:
			return t.SinglePredicate.GetInput().GetTypedConfig().MessageIs(&matcherv3.HttpResponseHeaderMatchInput{})
		}
		return false
	}
	for _, fm := range m.GetMatcherList().GetMatchers() {
		if pred(fm.GetPredicate()) {
			return true
		}
	}
	return false
}

// skipByMatcher evaluates a match tree on the request headers: true when
// it ends in SkipFilter.
func (s *stream) skipByMatcher(m *xdsmatcherv3.Matcher) (bool, error) {
	if m == nil {
		return false, nil
	}
	list := m.GetMatcherList()
	if list == nil {
		return false, fmt.Errorf("only matcher_list matchers are emulated")
	}
	for _, fm := range list.GetMatchers() {
		ok, err := s.predicate(fm.GetPredicate())
		if err != nil {
			return false, err
		}
		if ok {
			return isSkip(fm.GetOnMatch())
		}
	}
	if nm := m.GetOnNoMatch(); nm != nil {
		return isSkip(nm)
	}
	return false, nil
}

func isSkip(om *xdsmatcherv3.Matcher_OnMatch) (bool, error) {
	a := om.GetAction()
	if a == nil {
		return false, fmt.Errorf("nested matchers are not emulated")
	}
	if !a.GetTypedConfig().MessageIs(&skipv3.SkipFilter{}) {
		return false, fmt.Errorf("action %s is not emulated", a.GetTypedConfig().GetTypeUrl())
	}
	return true, nil
}

func (s *stream) predicate(p *xdsmatcherv3.Matcher_MatcherList_Predicate) (bool, error) {
	switch t := p.GetMatchType().(type) {
	case *xdsmatcherv3.Matcher_MatcherList_Predicate_NotMatcher:
		ok, err := s.predicate(t.NotMatcher)
		return !ok, err
	case *xdsmatcherv3.Matcher_MatcherList_Predicate_OrMatcher:
		for _, q := range t.OrMatcher.GetPredicate() {
			if ok, err := s.predicate(q); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case *xdsmatcherv3.Matcher_MatcherList_Predicate_AndMatcher:
		for _, q := range t.AndMatcher.GetPredicate() {
			if ok, err := s.predicate(q); err != nil || !ok {
				return ok, err
			}
		}
		return true, nil
	case *xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_:
		sp := t.SinglePredicate
		src, hdrName := s.hdr, ""
		in := &matcherv3.HttpRequestHeaderMatchInput{}
		out := &matcherv3.HttpResponseHeaderMatchInput{}
		switch tc := sp.GetInput().GetTypedConfig(); {
		case tc.MessageIs(in):
			if err := tc.UnmarshalTo(in); err != nil {
				return false, err
			}
			hdrName = in.GetHeaderName()
		case tc.MessageIs(out) && s.matchResp != nil:
			if err := tc.UnmarshalTo(out); err != nil {
				return false, err
			}
			src, hdrName = s.matchResp, out.GetHeaderName()
		default:
			return false, fmt.Errorf("input %s is not emulated", tc.GetTypeUrl())
		}
		v, present := src.Joined(hdrName)
		if !present {
			return false, nil
		}
		sm := sp.GetValueMatch()
		if sm == nil {
			return false, fmt.Errorf("custom matchers are not emulated")
		}
		return xdsStringMatch(sm, v)
	}
	return false, fmt.Errorf("predicate %T is not emulated", p.GetMatchType())
}

func xdsStringMatch(m *xdsmatcherv3.StringMatcher, v string) (bool, error) {
	if m.GetIgnoreCase() {
		v = strings.ToLower(v)
	}
	low := func(s string) string {
		if m.GetIgnoreCase() {
			return strings.ToLower(s)
		}
		return s
	}
	switch p := m.GetMatchPattern().(type) {
	case *xdsmatcherv3.StringMatcher_Exact:
		return v == low(p.Exact), nil
	case *xdsmatcherv3.StringMatcher_Prefix:
		return strings.HasPrefix(v, low(p.Prefix)), nil
	case *xdsmatcherv3.StringMatcher_Suffix:
		return strings.HasSuffix(v, low(p.Suffix)), nil
	case *xdsmatcherv3.StringMatcher_Contains:
		return strings.Contains(v, low(p.Contains)), nil
	case *xdsmatcherv3.StringMatcher_SafeRegex:
		re, err := regexp.Compile("^(?:" + p.SafeRegex.GetRegex() + ")$")
		if err != nil {
			return false, err
		}
		return re.MatchString(v), nil
	}
	return false, fmt.Errorf("string matcher %T is not emulated", m.GetMatchPattern())
}

// applyResponseMutations runs the response header mutations of the
// header_mutation filters that ran.
func (s *stream) applyResponseMutations(r *Response) error {
	if len(s.respMutations) == 0 {
		return nil
	}
	h := HeadersFrom(r.Header)
	x := s.fmtCtx(h)
	x.status, x.details, x.flags = r.Status, r.Details, r.Flags
	if err := applyHeaderOptions(h, s.respMutations, x); err != nil {
		return err
	}
	r.Header = h.HTTP()
	return nil
}
