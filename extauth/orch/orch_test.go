package orch

import (
	"fmt"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// reference evaluates rules straight from the documented semantics, on the
// definitions themselves: big-integer ranges, linear scans, no compiled
// state.
func reference(rules []*apigwv1.Orchestration, input string, present bool) (string, Result) {
	find := func(s string) *apigwv1.Orchestration {
		for _, r := range rules {
			if r.OrchestrationStrategy == s {
				return r
			}
		}
		return nil
	}
	if !present || input == "" {
		if r := find(model.OrchNoneValue); r != nil {
			return r.OrchestrationMap[0].MappedParamValue, Mapped
		}
		return "", ParamNotFound
	}
	number := false
	for _, r := range rules {
		if !r.IsPreprocessing && r.OrchestrationMappedParam != nil {
			number = r.OrchestrationMappedParam.MappedParamType == "number"
			break
		}
	}
	isDigits := func(s string) bool {
		if s == "" {
			return false
		}
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		n, ok := new(big.Int).SetString(s, 10)
		return ok && n.Cmp(new(big.Int).SetUint64(1<<63-1)) <= 0
	}
	inRange := func(r *apigwv1.Orchestration, v string) (string, bool) {
		if !isDigits(v) {
			return "", false
		}
		n, _ := new(big.Int).SetString(v, 10)
		for _, e := range r.OrchestrationMap {
			lo, _ := new(big.Int).SetString(e.MapParamRange.RangeStart, 10)
			hi, _ := new(big.Int).SetString(e.MapParamRange.RangeEnd, 10)
			if n.Cmp(lo) >= 0 && n.Cmp(hi) <= 0 {
				return e.MappedParamValue, true
			}
		}
		return "", false
	}
	hash := func(v string) string {
		h := fnv.New64a()
		h.Write([]byte(v))
		return new(big.Int).Mod(new(big.Int).SetUint64(h.Sum64()), new(big.Int).Lsh(big.NewInt(1), 63)).String()
	}
	w := input
	for _, r := range rules {
		var out string
		var ok bool
		switch r.OrchestrationStrategy {
		case model.OrchNoneValue, model.OrchDefault:
			continue
		case model.OrchList:
			for _, e := range r.OrchestrationMap {
				for _, x := range e.MapParamList {
					if x == w && !ok {
						out, ok = e.MappedParamValue, true
					}
				}
				if ok {
					break
				}
			}
		case model.OrchRange:
			out, ok = inRange(r, w)
		case model.OrchHash:
			out, ok = hash(w), true
		case model.OrchHashRange:
			out, ok = inRange(r, hash(w))
		case model.OrchHeadN, model.OrchTailN:
			n := int(r.OrchestrationMap[0].InterceptLength)
			out, ok = w, true
			if utf8.RuneCountInString(w) > n {
				rs := []rune(w)
				if r.OrchestrationStrategy == model.OrchHeadN {
					out = string(rs[:n])
				} else {
					out = string(rs[len(rs)-n:])
				}
			}
		}
		if r.IsPreprocessing {
			if ok {
				w = out
			}
			continue
		}
		if ok {
			if number && !isDigits(out) {
				return "", Failure
			}
			return out, Mapped
		}
	}
	if r := find(model.OrchDefault); r != nil {
		return r.OrchestrationMap[0].MappedParamValue, Mapped
	}
	return "", Failure
}

// randomRule makes a valid rule of a strategy over a small alphabet so
// that inputs often match.
func randomRule(rng *rand.Rand, i int, strategy string, pre bool, mp *apigwv1.OrchestrationMappedParam) *apigwv1.Orchestration {
	o := &apigwv1.Orchestration{OrchestrationName: fmt.Sprintf("rule_%d", i), OrchestrationStrategy: strategy, IsPreprocessing: pre}
	if !pre {
		o.OrchestrationMappedParam = mp
	}
	val := func() string { return fmt.Sprint(rng.IntN(1000)) }
	switch strategy {
	case model.OrchList:
		used := map[string]bool{}
		for range 1 + rng.IntN(3) {
			e := &apigwv1.OrchestrationMap{MappedParamValue: val()}
			for range 1 + rng.IntN(4) {
				v := fmt.Sprint(rng.IntN(30))
				if !used[v] {
					used[v] = true
					e.MapParamList = append(e.MapParamList, v)
				}
			}
			if len(e.MapParamList) > 0 {
				o.OrchestrationMap = append(o.OrchestrationMap, e)
			}
		}
	case model.OrchRange, model.OrchHashRange:
		for range 1 + rng.IntN(3) {
			var lo, hi uint64
			if strategy == model.OrchRange {
				lo = uint64(rng.IntN(40))
				hi = lo + uint64(rng.IntN(20))
			} else {
				lo = rng.Uint64N(1 << 63)
				hi = lo + rng.Uint64N(1<<63-lo)
			}
			o.OrchestrationMap = append(o.OrchestrationMap, &apigwv1.OrchestrationMap{MappedParamValue: val(),
				MapParamRange: &apigwv1.OrchestrationRange{RangeStart: fmt.Sprint(lo), RangeEnd: fmt.Sprint(hi)}})
		}
	case model.OrchHeadN, model.OrchTailN:
		o.OrchestrationMap = []*apigwv1.OrchestrationMap{{InterceptLength: int32(1 + rng.IntN(4))}}
	case model.OrchNoneValue, model.OrchDefault:
		o.OrchestrationMap = []*apigwv1.OrchestrationMap{{MappedParamValue: val()}}
	}
	return o
}

// randomChain makes a chain that passes the binding rules.
func randomChain(rng *rand.Rand) []*apigwv1.Orchestration {
	typ := []string{"string", "number"}[rng.IntN(2)]
	mp := &apigwv1.OrchestrationMappedParam{MappedParamName: "X-Out", MappedParamType: typ, MappedParamLocation: "header"}
	strategies := []string{model.OrchList, model.OrchRange, model.OrchHash, model.OrchHashRange, model.OrchHeadN, model.OrchTailN}
	var rules []*apigwv1.Orchestration
	if rng.IntN(2) == 0 {
		rules = append(rules, randomRule(rng, len(rules), model.OrchNoneValue, false, mp))
	}
	for range 1 + rng.IntN(4) {
		pre := rng.IntN(3) == 0
		rules = append(rules, randomRule(rng, len(rules), strategies[rng.IntN(len(strategies))], pre, mp))
	}
	last := rules[len(rules)-1]
	if last.IsPreprocessing { // a preprocessing rule needs a consumer
		rules = append(rules, randomRule(rng, len(rules), model.OrchList, false, mp))
	}
	if rng.IntN(2) == 0 {
		rules = append(rules, randomRule(rng, len(rules), model.OrchDefault, false, mp))
	}
	return rules
}

// Every strategy, alone and chained with preprocessing, none_value and
// default, evaluates as the reference implementation of the documented
// semantics, on inputs that match, miss, are empty, absent, non-numeric,
// multi-byte or out of int64.
func TestEvalMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := func() []string {
		out := []string{"", "abc", "99999999999999999999", "9223372036854775807", "-1", "日本語テキスト", "0"}
		for range 10 {
			out = append(out, fmt.Sprint(rng.IntN(60)))
		}
		out = append(out, strings.Repeat("7", 1+rng.IntN(6)))
		return out
	}
	checked := map[string]int{}
	for i := 0; i < 3000; i++ {
		rules := randomChain(rng)
		var vs model.Violations
		for _, r := range rules {
			if got := model.Validate(r, model.AbsoluteLimits()); len(got) > 0 {
				vs = append(vs, got...)
			}
		}
		if len(vs) > 0 {
			t.Fatalf("generated an invalid rule: %v", vs)
		}
		c, err := Compile(rules)
		if err != nil {
			t.Fatalf("compile %d: %v", i, err)
		}
		for _, in := range inputs() {
			for _, present := range []bool{true, false} {
				got, gr := c.Eval(in, present)
				want, wr := reference(rules, in, present)
				if got != want || gr != wr {
					t.Fatalf("chain %d %v, input %q present %v: got %q %v, want %q %v", i, strategiesOf(rules), in, present, got, gr, want, wr)
				}
				checked[fmt.Sprint(wr)]++
			}
		}
		for _, r := range rules {
			checked[r.OrchestrationStrategy]++
		}
	}
	for _, k := range []string{model.OrchList, model.OrchRange, model.OrchHash, model.OrchHashRange, model.OrchHeadN, model.OrchTailN, model.OrchNoneValue, model.OrchDefault, "0", "1", "2"} {
		if checked[k] == 0 {
			t.Errorf("nothing exercised %s", k)
		}
	}
}

func strategiesOf(rules []*apigwv1.Orchestration) []string {
	var out []string
	for _, r := range rules {
		s := r.OrchestrationStrategy
		if r.IsPreprocessing {
			s += "(pre)"
		}
		out = append(out, s)
	}
	return out
}

// The hash is stable: pinned values (FNV-1a 64, top bit cleared) that
// must never change, or shard mappings would move.
func TestHashIsStable(t *testing.T) {
	for in, want := range map[string]int64{"": 5472609002491880229, "10001": 208319478868992431, "acme": 514768821131075087} {
		if got := Hash(in); got != want {
			t.Errorf("Hash(%q) = %d, want %d", in, got, want)
		}
	}
}
