package translate

import (
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// matchSet is a conjunction of header and query matchers added to a
// route's match.
type matchSet struct {
	headers []*routev3.HeaderMatcher
	query   []*routev3.QueryParameterMatcher
}

// policyMatches returns the alternatives (ORed as separate routes) under
// which a policy backend applies (docs/apig-semantics.md#policy-backends).
// Conditions on declared header and query parameters and on the request
// method are matched by Envoy; any other condition (source IP, authorizer
// context, cookies, paths, regex patterns) makes ext_authz evaluate the
// policy and select it through dataplane.ExtAuthzPolicyHeader, and viaExtAuthz
// is true.
func policyMatches(api *apigwv1.Api, p policy) (alts []matchSet, viaExtAuthz bool) {
	byHeader := []matchSet{policyHeaderMatch(p.name)}
	if len(p.conditions) == 0 {
		return byHeader, true
	}
	var perCond [][]matchSet
	for _, c := range p.conditions {
		sets, ok := conditionMatches(api, c, p.effect == model.EffectAll)
		if !ok {
			return byHeader, true
		}
		perCond = append(perCond, sets)
	}
	if p.effect == model.EffectAll {
		var all matchSet
		for _, sets := range perCond {
			all.headers = append(all.headers, sets[0].headers...)
			all.query = append(all.query, sets[0].query...)
		}
		return []matchSet{all}, false
	}
	for _, sets := range perCond {
		alts = append(alts, sets...)
	}
	return alts, false
}

// conditionMatches maps one condition onto alternatives. With single the
// result must be one set (enumerations become an anchored regex).
func conditionMatches(api *apigwv1.Api, c *apigwv1.Condition, single bool) ([]matchSet, bool) {
	var values []string
	switch c.ConditionType {
	case model.CondExact:
		values = []string{c.ConditionValue}
	case model.CondEnum:
		values = model.SplitList(c.ConditionValue)
	default:
		return nil, false
	}
	if len(values) == 0 {
		return nil, false
	}
	var header, query string
	switch c.ConditionOrigin {
	case model.CondParam:
		rp := reqParam(api, c.ReqParamName)
		switch {
		case rp == nil:
			return nil, false
		case rp.Location == model.LocHeader:
			header = strings.ToLower(rp.Name)
		case rp.Location == model.LocQuery:
			query = rp.Name
		default:
			return nil, false
		}
	case model.CondSystem:
		if c.SysParamName != "req_method" && c.SysParamName != "reqMethod" {
			return nil, false
		}
		header = ":method"
		for i, v := range values {
			values[i] = strings.ToUpper(v)
		}
	default:
		return nil, false
	}
	var sms []*matcherv3.StringMatcher
	if single && len(values) > 1 {
		re := "^(?:" + quoteAll(values) + ")$"
		if len(re) > maxRegexPrefix {
			return nil, false
		}
		sms = []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}}}
	} else {
		for _, v := range values {
			sms = append(sms, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: v}})
		}
	}
	out := make([]matchSet, 0, len(sms))
	for _, sm := range sms {
		if header != "" {
			out = append(out, matchSet{headers: []*routev3.HeaderMatcher{{Name: header, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm}}}})
		} else {
			out = append(out, matchSet{query: []*routev3.QueryParameterMatcher{{Name: query, QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm}}}})
		}
	}
	return out, true
}

// policyHeaderMatch selects a policy backend by the header ext_authz sets.
func policyHeaderMatch(name string) matchSet {
	return matchSet{headers: []*routev3.HeaderMatcher{exactHeader(dataplane.ExtAuthzPolicyHeader, name)}}
}

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = regexp.QuoteMeta(v)
	}
	return strings.Join(q, "|")
}

func exactHeader(name, value string) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: value}},
	}}
}
