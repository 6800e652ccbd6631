package matchexpr_test

import (
	"errors"
	"testing"

	"github.com/apigw/apigw/model/matchexpr"
)

// FuzzParse parses arbitrary text: Parse never panics; a refused text gets
// a *matchexpr.Error whose offset lies inside the text; an accepted one
// has a canonical form that parses to the same canonical form and the same
// verdict on a few parameter sets.
//
// Seed corpus: the documented examples below. Run it with
//
//	go test ./model/matchexpr -run '^$' -fuzz FuzzParse -fuzztime 30s
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`["Host","==","www.abc.com"]`,
		`["AND",["method","~=","POST"],["method","~=","PATCH"]]`,
		`["reqPath","~~","/terraform/test/*/"]`,
		`["serverName","==","terraform"]`,
		`["method","in","PATCH"]`,
		`["OR",["$context.statusCode","in","500,501,504"],["$context.backendResponseTime",">",6000]]`,
		`["authType","~=","Token"]`,
		`[["a","==",1],["b","!","~*","^x"],["!OR",["c","in",[1,"2"]],["d","<=","3.5"]]]`,
		`["a","in","x,,y"]`, `{"a":1}`, `["a","==",`, ``,
	} {
		f.Add(s)
	}
	params := []matchexpr.Map{
		{},
		{"Host": "www.abc.com", "method": "POST", "reqPath": "/terraform/test/", "a": "1", "b": "xy", "c": "2", "d": "3"},
		{"$context.statusCode": "501", "$context.backendResponseTime": "7000", "method": "GET", "a": "1.0", "d": "x"},
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := matchexpr.Parse(src)
		if err != nil {
			var pe *matchexpr.Error
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error %T %v is not a *matchexpr.Error", src, err, err)
			}
			if pe.Offset < 0 || pe.Offset > len(src) {
				t.Fatalf("%q: offset %d outside the text", src, pe.Offset)
			}
			return
		}
		canon := e.String()
		again, err := matchexpr.Parse(canon)
		if err != nil {
			t.Fatalf("%q: canonical form %s refused: %v", src, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("%q: canonical form not stable: %s → %s", src, canon, again.String())
		}
		for _, p := range params {
			if e.Eval(p) != again.Eval(p) {
				t.Fatalf("%q: %s and its canonical form disagree on %v", src, src, p)
			}
		}
	})
}
