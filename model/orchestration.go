package model

import (
	"regexp"
	"strconv"
	"strings"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// KindOrchestration is the kind of parameter orchestration rules.
const KindOrchestration = "orchestration"

// Orchestration strategies (docs/apig-semantics.md#orchestration-rules).
const (
	OrchList      = "list"
	OrchRange     = "range"
	OrchHash      = "hash"
	OrchHashRange = "hash_range"
	OrchNoneValue = "none_value"
	OrchDefault   = "default"
	OrchHeadN     = "head_n"
	OrchTailN     = "tail_n"
)

// Orchestration limits: APIG's, and MaxOrchestrationsPerParam, apigw's
// bound on the rules of one parameter (APIG has an unpublished quota).
const (
	MaxOrchestrationMap       = 300
	MaxOrchestrationListTotal = 3000
	MaxInterceptLength        = 100
	MaxOrchestrationsPerParam = 10
)

var (
	reOrchName      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{2,63}$`)
	reMappedName    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	reMapListValue  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	reMappedValue   = regexp.MustCompile(`^[A-Za-z0-9]{1,128}$`)
	reDecimalDigits = regexp.MustCompile(`^[0-9]+$`)
)

// DebugDomainDailyCalls is APIG's limit of the calls through a group's
// debug sub-domain per day (switchable per group: sl_domain_quota_enabled).
const DebugDomainDailyCalls = 1000

// Orchestration returns an orchestration rule by id.
func (in *Instance) Orchestration(id string) *apigwv1.Orchestration {
	return get[*apigwv1.Orchestration](in, KindOrchestration, id)
}

// ParseOrchRange parses an orchestration range bound (0 .. MaxInt64).
func ParseOrchRange(s string) (int64, bool) {
	if !reDecimalDigits.MatchString(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func validateOrchestration(c checker, o *apigwv1.Orchestration) {
	if c.required("orchestration_name", o.OrchestrationName) && !reOrchName.MatchString(o.OrchestrationName) {
		c.add("orchestration_name", "must be 3-64 of [A-Za-z0-9_], starting with a letter")
	}
	s := o.OrchestrationStrategy
	if !c.required("orchestration_strategy", s) {
		return
	}
	c.oneOf("orchestration_strategy", s, OrchList, OrchRange, OrchHash, OrchHashRange, OrchNoneValue, OrchDefault, OrchHeadN, OrchTailN)
	if o.IsPreprocessing && (s == OrchNoneValue || s == OrchDefault) {
		c.add("is_preprocessing", "is not allowed for %s rules", s)
	}
	mp := o.OrchestrationMappedParam
	number := false
	switch {
	case mp == nil && !o.IsPreprocessing:
		c.add("orchestration_mapped_param", "is required unless is_preprocessing")
	case mp != nil:
		mc := c.at("orchestration_mapped_param")
		if mc.required("mapped_param_name", mp.MappedParamName) && !reMappedName.MatchString(mp.MappedParamName) {
			mc.add("mapped_param_name", "must be 1-128 of [A-Za-z0-9-], starting with a letter")
		}
		mc.oneOf("mapped_param_type", mp.MappedParamType, "string", "number")
		mc.oneOf("mapped_param_location", mp.MappedParamLocation, "header", "query")
		number = mp.MappedParamType == "number"
	}
	n := len(o.OrchestrationMap)
	switch s {
	case OrchHash:
		if n > 0 {
			c.add("orchestration_map", "must be empty for hash rules")
		}
		return
	case OrchNoneValue, OrchDefault, OrchHeadN, OrchTailN:
		if n != 1 {
			c.add("orchestration_map", "must have exactly one entry for %s rules (got %d)", s, n)
		}
	default:
		if n < 1 || n > MaxOrchestrationMap {
			c.add("orchestration_map", "must have 1-%d entries (got %d)", MaxOrchestrationMap, n)
		}
	}
	seen := map[string]bool{}
	total := 0
	for i, e := range o.OrchestrationMap {
		ec := c.idx("orchestration_map", i)
		switch s {
		case OrchHeadN, OrchTailN:
			ec.rangeInt("intercept_length", int64(e.InterceptLength), 1, MaxInterceptLength)
		default:
			if ec.required("mapped_param_value", e.MappedParamValue) && !reMappedValue.MatchString(e.MappedParamValue) {
				ec.add("mapped_param_value", "must be 1-128 of [A-Za-z0-9]")
			} else if number && !reDecimalDigits.MatchString(e.MappedParamValue) {
				ec.add("mapped_param_value", "must be a number (mapped_param_type is number)")
			}
		}
		switch s {
		case OrchList:
			if len(e.MapParamList) == 0 {
				ec.add("map_param_list", "is required for list rules")
			}
			for j, v := range e.MapParamList {
				if !reMapListValue.MatchString(v) {
					ec.add(index("map_param_list", j), "must be 1-128 of [A-Za-z0-9_-]")
				}
				if seen[v] {
					ec.add(index("map_param_list", j), "%q is listed twice", v)
				}
				seen[v] = true
			}
			total += len(e.MapParamList)
		case OrchRange, OrchHashRange:
			r := e.MapParamRange
			if r == nil {
				ec.add("map_param_range", "is required for %s rules", s)
				continue
			}
			lo, ok1 := ParseOrchRange(r.RangeStart)
			hi, ok2 := ParseOrchRange(r.RangeEnd)
			if !ok1 {
				ec.add("map_param_range.range_start", "must be an integer 0-9223372036854775807")
			}
			if !ok2 {
				ec.add("map_param_range.range_end", "must be an integer 0-9223372036854775807")
			}
			if ok1 && ok2 && lo > hi {
				ec.add("map_param_range.range_start", "must not exceed range_end")
			}
		}
		if s != OrchList && len(e.MapParamList) > 0 {
			ec.add("map_param_list", "is only for list rules")
		}
		if s != OrchRange && s != OrchHashRange && e.MapParamRange != nil {
			ec.add("map_param_range", "is only for range and hash_range rules")
		}
		if s != OrchHeadN && s != OrchTailN && e.InterceptLength != 0 {
			ec.add("intercept_length", "is only for head_n and tail_n rules")
		}
	}
	if total > MaxOrchestrationListTotal {
		c.add("orchestration_map", "at most %d list values in all (got %d)", MaxOrchestrationListTotal, total)
	}
}

// checkOrchestrations checks the rules bound to an API's parameter: they
// exist (checked with the references), do not repeat, at most one
// none_value and one default, a preprocessing rule is followed by another
// rule that is not a default, every rule producing a parameter produces
// the same one, which is not a declared parameter.
func (in *Instance) checkOrchestrations(c checker, a *apigwv1.Api) {
	var mapped string
	defer func() {
		if orchestrated(a) {
			checkParamNames(c, a, mapped)
		}
	}()
	for i, p := range a.ReqParams {
		if len(p.Orchestrations) == 0 {
			continue
		}
		pc := c.idx("req_params", i)
		if len(p.Orchestrations) > MaxOrchestrationsPerParam {
			pc.add("orchestrations", "at most %d rules per parameter (got %d)", MaxOrchestrationsPerParam, len(p.Orchestrations))
		}
		seen := map[string]bool{}
		var rules []*apigwv1.Orchestration
		for _, id := range p.Orchestrations {
			if seen[id] {
				pc.add("orchestrations", "rule %q is bound twice", id)
			}
			seen[id] = true
			if o := in.Orchestration(id); o != nil {
				rules = append(rules, o)
			}
		}
		if len(rules) != len(p.Orchestrations) {
			continue // a missing rule is reported with the references
		}
		for _, problem := range OrchestrationChainProblems(rules) {
			pc.add("orchestrations", "%s", problem)
		}
		if mp := MappedParam(rules); mp != nil {
			mapped = mp.MappedParamName
			for _, q := range a.ReqParams {
				if strings.EqualFold(q.Name, mp.MappedParamName) {
					pc.add("orchestrations", "the mapped parameter %s is a declared parameter", mp.MappedParamName)
				}
			}
		}
	}
}

// OrchestrationChainProblems returns what is wrong with the rules bound
// to one parameter, in their order.
func OrchestrationChainProblems(rules []*apigwv1.Orchestration) []string {
	var out []string
	count := map[string]int{}
	var mapped *apigwv1.OrchestrationMappedParam
	for i, o := range rules {
		s := o.OrchestrationStrategy
		count[s]++
		if o.IsPreprocessing {
			var next *apigwv1.Orchestration
			for _, r := range rules[i+1:] {
				if r.OrchestrationStrategy != OrchNoneValue {
					next = r
					break
				}
			}
			if next == nil || next.OrchestrationStrategy == OrchDefault {
				out = append(out, "preprocessing rule "+o.OrchestrationName+" must be followed by a rule that uses its value")
			}
			continue
		}
		mp := o.OrchestrationMappedParam
		if mapped == nil {
			mapped = mp
		} else if mp != nil && (mp.MappedParamName != mapped.MappedParamName || mp.MappedParamType != mapped.MappedParamType || mp.MappedParamLocation != mapped.MappedParamLocation) {
			out = append(out, "rule "+o.OrchestrationName+" maps to "+mp.MappedParamName+" ("+mp.MappedParamLocation+", "+mp.MappedParamType+"), the others to "+mapped.MappedParamName+" ("+mapped.MappedParamLocation+", "+mapped.MappedParamType+")")
		}
	}
	for _, s := range []string{OrchNoneValue, OrchDefault} {
		if count[s] > 1 {
			out = append(out, "at most one "+s+" rule")
		}
	}
	if mapped == nil && len(rules) > 0 {
		out = append(out, "no rule produces a mapped parameter")
	}
	return out
}

// MappedParam returns the parameter a parameter's rules produce (nil when
// none does).
func MappedParam(rules []*apigwv1.Orchestration) *apigwv1.OrchestrationMappedParam {
	for _, o := range rules {
		if !o.IsPreprocessing && o.OrchestrationMappedParam != nil {
			return o.OrchestrationMappedParam
		}
	}
	return nil
}

// checkOrchestrationUsers re-checks the APIs bound to a rule being
// changed: the change must keep their rule chains valid.
func (in *Instance) checkOrchestrationUsers(c checker, o *apigwv1.Orchestration) {
	for _, r := range in.Referrers(KindOrchestration, o.Id) {
		a := in.API(r.ID)
		if r.Kind != KindAPI || a == nil {
			continue
		}
		var vs Violations
		in.checkOrchestrations(newChecker(&vs, ""), a)
		for _, v := range vs {
			c.add("orchestration_strategy", "API %s: %s: %s", a.Name, v.Field, v.Description)
		}
	}
}

// checkParamNames verifies that the request parameters named by backend
// parameters and policy conditions are declared or the mapped parameter
// of the API's orchestration rules.
func checkParamNames(c checker, a *apigwv1.Api, mapped string) {
	ok := func(name string) bool { return hasReqParam(a, name) || (mapped != "" && name == mapped) }
	params := func(prefix string, bps []*apigwv1.BackendParam) {
		for i, bp := range bps {
			if bp.Origin == OriginRequest && !ok(bp.Value) {
				c.add(join(prefix, index("backend_params", i))+".value", "names no declared request parameter or mapped parameter (%q)", bp.Value)
			}
		}
	}
	conds := func(prefix string, cs []*apigwv1.Condition) {
		for i, cd := range cs {
			if cd.ConditionOrigin == CondParam && cd.ReqParamName != "" && !ok(cd.ReqParamName) {
				c.add(join(prefix, index("conditions", i))+".req_param_name", "names no declared request parameter or mapped parameter (%q)", cd.ReqParamName)
			}
		}
	}
	params("", a.BackendParams)
	for i, p := range a.PolicyHttps {
		params(index("policy_https", i), p.BackendParams)
		conds(index("policy_https", i), p.Conditions)
	}
	for i, p := range a.PolicyFunctions {
		params(index("policy_functions", i), p.BackendParams)
		conds(index("policy_functions", i), p.Conditions)
	}
	for i, p := range a.PolicyMocks {
		params(index("policy_mocks", i), p.BackendParams)
		conds(index("policy_mocks", i), p.Conditions)
	}
}
