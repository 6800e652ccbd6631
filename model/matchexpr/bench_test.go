package matchexpr_test

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/apigw/apigw/model/matchexpr"
)

// benchExpr is a Throttling 2.0 rule of the size the console builds: a
// method, a path pattern, an enumeration and a numeric comparison.
const benchExpr = `["AND",["method","~=","POST"],["reqPath","~~","^/v1/orders/[0-9]+$"],["OR",["tier","in","gold,silver"],["n",">",5]]]`

var benchParams = sliceParams{"method", "GET", "reqPath", "/v1/orders/12", "tier", "bronze", "n", "7"}

// BenchmarkEval measures a compiled expression against two baselines run
// side by side: the same rule written by hand in Go (the floor), and
// parsing the expression for every request (what compiling once saves).
//
//	go test ./model/matchexpr -run '^$' -bench Eval -benchmem
func BenchmarkEval(b *testing.B) {
	e, err := matchexpr.Parse(benchExpr)
	if err != nil {
		b.Fatal(err)
	}
	p := &benchParams
	if !e.Eval(p) {
		b.Fatal("the benchmark rule does not match")
	}
	b.Run("compiled", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if !e.Eval(p) {
				b.Fatal("no match")
			}
		}
	})
	re := regexp.MustCompile(`^/v1/orders/[0-9]+$`)
	b.Run("handwritten", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			m, _ := p.Param("method")
			path, okPath := p.Param("reqPath")
			tier, _ := p.Param("tier")
			nv, _ := p.Param("n")
			n, err := strconv.ParseFloat(nv, 64)
			if !(m != "POST" && okPath && re.MatchString(path) && (tier == "gold" || tier == "silver" || (err == nil && n > 5))) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("parse-each-time", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			e, err := matchexpr.Parse(benchExpr)
			if err != nil || !e.Eval(p) {
				b.Fatal("no match")
			}
		}
	})
}
