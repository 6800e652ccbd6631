package matchexpr_test

import (
	"testing"

	"github.com/apigw/apigw/internal/testutil"
	"github.com/apigw/apigw/model/matchexpr"
)

// Expressions of APIG's published examples (Request Throttling 2.0 rules
// and circuit-breaker conditions) and what they select.
func TestDocumentedExamples(t *testing.T) {
	type call struct {
		params matchexpr.Map
		want   bool
	}
	tests := []struct {
		name, expr string
		calls      []call
	}{
		{"header equal", `["Host","==","www.abc.com"]`, []call{
			{matchexpr.Map{"Host": "www.abc.com"}, true},
			{matchexpr.Map{"Host": "www.abc.com.evil"}, false},
			{matchexpr.Map{"Host": "WWW.ABC.COM"}, false},
			{matchexpr.Map{}, false},
		}},
		{"not equal twice (AND)", `["AND",["method","~=","POST"],["method","~=","PATCH"]]`, []call{
			{matchexpr.Map{"method": "GET"}, true},
			{matchexpr.Map{"method": "POST"}, false},
			{matchexpr.Map{"method": "PATCH"}, false},
			{matchexpr.Map{}, true}, // a missing parameter is "not equal"
		}},
		{"pattern", `["reqPath","~~","/terraform/test/*/"]`, []call{
			{matchexpr.Map{"reqPath": "/terraform/test/"}, true},
			{matchexpr.Map{"reqPath": "/terraform/test/a/b"}, true}, // searched, not anchored
			{matchexpr.Map{"reqPath": "/terraform/testing"}, false},
			{matchexpr.Map{}, false},
		}},
		{"system parameter", `["serverName","==","terraform"]`, []call{
			{matchexpr.Map{"serverName": "terraform"}, true},
			{matchexpr.Map{"serverName": "terraform2"}, false},
		}},
		{"enumeration of one", `["method","in","PATCH"]`, []call{
			{matchexpr.Map{"method": "PATCH"}, true},
			{matchexpr.Map{"method": "PUT"}, false},
		}},
		{"breaker condition", `["OR",["$context.statusCode","in","500,501,504"],["$context.backendResponseTime",">",6000]]`, []call{
			{matchexpr.Map{"$context.statusCode": "501", "$context.backendResponseTime": "10"}, true},
			{matchexpr.Map{"$context.statusCode": "200", "$context.backendResponseTime": "6001"}, true},
			{matchexpr.Map{"$context.statusCode": "200", "$context.backendResponseTime": "6000"}, false},
			{matchexpr.Map{"$context.statusCode": "503", "$context.backendResponseTime": "slow"}, false},
		}},
		{"downgrade rule", `["authType","~=","Token"]`, []call{
			{matchexpr.Map{"authType": "AKSK"}, true},
			{matchexpr.Map{"authType": "Token"}, false},
		}},
		{"three conditions (console)", `["AND",["OR",["reqPath","==","/fc"],["reqPath","==","/list"]],["method","==","GET"]]`, []call{
			{matchexpr.Map{"reqPath": "/fc", "method": "GET"}, true},
			{matchexpr.Map{"reqPath": "/list", "method": "GET"}, true},
			{matchexpr.Map{"reqPath": "/list", "method": "POST"}, false},
			{matchexpr.Map{"reqPath": "/other", "method": "GET"}, false},
		}},
		{"implicit AND list", `[["a","==","1"],["b","==","2"]]`, []call{
			{matchexpr.Map{"a": "1", "b": "2"}, true},
			{matchexpr.Map{"a": "1", "b": "3"}, false},
		}},
		{"negations", `["!OR",["a","==","1"],["b","!","~~","^x"]]`, []call{
			{matchexpr.Map{"a": "2", "b": "xyz"}, true},
			{matchexpr.Map{"a": "1", "b": "xyz"}, false},
			{matchexpr.Map{"a": "2", "b": "abc"}, false},
		}},
		{"!AND", `["!AND",["a","==","1"],["b","==","2"]]`, []call{
			{matchexpr.Map{"a": "1", "b": "2"}, false},
			{matchexpr.Map{"a": "1"}, true},
		}},
		{"numeric equal", `["size","==",10]`, []call{
			{matchexpr.Map{"size": "10"}, true},
			{matchexpr.Map{"size": "10.0"}, true},
			{matchexpr.Map{"size": " 1e1 "}, true},
			{matchexpr.Map{"size": "ten"}, false},
		}},
		{"numeric not equal", `["size","~=",10]`, []call{
			{matchexpr.Map{"size": "ten"}, true},
			{matchexpr.Map{"size": "10"}, false},
		}},
		{"string equal is text", `["size","==","10"]`, []call{
			{matchexpr.Map{"size": "10"}, true},
			{matchexpr.Map{"size": "10.0"}, false},
		}},
		{"comparisons", `["AND",["n",">=",1.5],["n","<","3"],["n","<=",2],["n",">",-1]]`, []call{
			{matchexpr.Map{"n": "1.5"}, true},
			{matchexpr.Map{"n": "2"}, true},
			{matchexpr.Map{"n": "2.5"}, false},
			{matchexpr.Map{"n": "1"}, false},
			{matchexpr.Map{"n": "0x2"}, false},
		}},
		{"regex any case", `["ua","~*","^curl/"]`, []call{
			{matchexpr.Map{"ua": "CURL/8.0"}, true},
			{matchexpr.Map{"ua": "wget"}, false},
		}},
		{"in array and spaces", `["AND",["code","in",[500,"502"]],["m","in"," GET , HEAD "]]`, []call{
			{matchexpr.Map{"code": "500", "m": "HEAD"}, true},
			{matchexpr.Map{"code": "502", "m": "GET"}, true},
			{matchexpr.Map{"code": "501", "m": "GET"}, false},
		}},
		{"case of words", `["and",["m","IN","GET"],["m","==","GET"]]`, []call{
			{matchexpr.Map{"m": "GET"}, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := matchexpr.Parse(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			again, err := matchexpr.Parse(e.String())
			if err != nil {
				t.Fatalf("canonical form %s does not parse: %v", e.String(), err)
			}
			for _, c := range tt.calls {
				if got := e.Eval(c.params); got != c.want {
					t.Errorf("%s with %v: %v, want %v", tt.expr, c.params, got, c.want)
				}
				if got := again.Eval(c.params); got != c.want {
					t.Errorf("canonical %s with %v: %v, want %v", e.String(), c.params, got, c.want)
				}
			}
		})
	}
}

func TestParamsAndCanonicalForm(t *testing.T) {
	e, err := matchexpr.Parse(` [ "or" , ["b","IN","x, y"], ["AND",["a","!","==",1.50],["b",">","7"]] ] `)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Params(); len(got) != 2 || got[0] != "b" || got[1] != "a" {
		t.Errorf("params %v, want [b a]", got)
	}
	if got, want := e.String(), `["OR",["b","in","x, y"],["AND",["a","!","==",1.5],["b",">",7]]]`; got != want {
		t.Errorf("canonical form\n got %s\nwant %s", got, want)
	}
}

// Bad expressions are refused with the position inside the expression and
// the offset in the text.
func TestInvalidExpressionsNameTheirPosition(t *testing.T) {
	tests := []struct {
		expr, path string
		offset     int
		msg        string
	}{
		{``, "", 0, "empty expression"},
		{`[]`, "", 0, "empty expression"},
		{`{"a":1}`, "", 0, "object"},
		{`"x"`, "", 0, "want an expression"},
		{`["a","=~","x"]`, "[1]", 5, `unknown operator "=~"`},
		{`["AND",["a","==","1"],["b","like","x"]]`, "[2][1]", 27, `unknown operator "like"`},
		{`["a","==",true]`, "[2]", 10, "string or a number"},
		{`["a",">","big"]`, "[2]", 9, "compares with a number"},
		{`["a","~~","(x"]`, "[2]", 10, "invalid regular expression"},
		{`["a","~~","(?=x)"]`, "[2]", 10, "invalid regular expression"},
		{`["a","in","x,,y"]`, "[2]", 10, "empty item"},
		{`["a","in",[]]`, "[2]", 10, "empty"},
		{`["a","in",[true]]`, "[2][0]", 11, "strings or numbers"},
		{`["a","=="]`, "", 0, "[parameter, operator, value]"},
		{`["a","x","==","1"]`, "[1]", 5, `[parameter, "!", operator, value]`},
		{`["","==","1"]`, "[0]", 1, "parameter name is empty"},
		{`["OR"]`, "", 0, "at least one operand"},
		{`["OR","a"]`, "[1]", 6, "want an expression"},
		{`[1,"==","1"]`, "[0]", 1, "want a parameter name"},
		{`["a","==","1"] x`, "", 15, "after the expression"},
		{`["a","==",`, "[2]", 10, "ends early"},
		{`["a","==" "1"]`, "[2]", 10, "not JSON"},
	}
	for _, tt := range tests {
		_, err := matchexpr.Parse(tt.expr)
		e, ok := err.(*matchexpr.Error)
		if !ok {
			t.Errorf("%s: got %v, want a *matchexpr.Error", tt.expr, err)
			continue
		}
		if e.Path != tt.path || e.Offset != tt.offset || !contains(e.Msg, tt.msg) {
			t.Errorf("%s: got path %q offset %d %q; want path %q offset %d %q", tt.expr, e.Path, e.Offset, e.Msg, tt.path, tt.offset, tt.msg)
		}
	}
}

func TestDepthAndSizeAreBounded(t *testing.T) {
	deep := ""
	for i := 0; i < matchexpr.MaxDepth+1; i++ {
		deep += `["AND",`
	}
	deep += `["a","==","1"]`
	for i := 0; i < matchexpr.MaxDepth+1; i++ {
		deep += `]`
	}
	if _, err := matchexpr.Parse(deep); err == nil || !contains(err.Error(), "nested deeper") {
		t.Errorf("deep expression: %v", err)
	}
	big := `["OR"`
	for i := 0; i <= matchexpr.MaxConditions; i++ {
		big += `,["a","==","1"]`
	}
	big += `]`
	if _, err := matchexpr.Parse(big); err == nil || !contains(err.Error(), "more than") {
		t.Errorf("large expression: %v", err)
	}
}

type sliceParams []string // name, value, name, value...

func (s sliceParams) Param(name string) (string, bool) {
	for i := 0; i+1 < len(s); i += 2 {
		if s[i] == name {
			return s[i+1], true
		}
	}
	return "", false
}

// Eval does not allocate, whatever the operators.
func TestEvalDoesNotAllocate(t *testing.T) {
	if testutil.RaceEnabled {
		t.Skip("the race detector's instrumentation allocates; make test runs this test without it")
	}
	e, err := matchexpr.Parse(`["OR",["AND",["method","~=","POST"],["reqPath","~~","^/v1/orders/[0-9]+$"],["n",">",5]],["code","in","500,501,504"],["ua","~*","bot"],["size","==",10]]`)
	if err != nil {
		t.Fatal(err)
	}
	p := sliceParams{"method", "GET", "reqPath", "/v1/orders/12", "n", "4.5", "code", "200", "ua", "Mozilla", "size", "11"}
	if e.Eval(&p) {
		t.Fatal("matched")
	}
	if n := testing.AllocsPerRun(200, func() { e.Eval(&p) }); n != 0 {
		t.Errorf("Eval allocates %v times per call", n)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestCheckParamsNamesTheFirstUnknownParameter(t *testing.T) {
	e, err := matchexpr.Parse(`["AND",["method","==","GET"],["OR",["reqPath","~~","^/a"],["tenant","==","x"]]]`)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{"method": true, "reqPath": true}
	err = e.CheckParams(func(n string) bool { return declared[n] })
	pe, ok := err.(*matchexpr.Error)
	if !ok || pe.Path != "[2][2][0]" || pe.Offset != 59 || !contains(pe.Msg, `"tenant" is not defined`) {
		t.Fatalf("got %v", err)
	}
	declared["tenant"] = true
	if err := e.CheckParams(func(n string) bool { return declared[n] }); err != nil {
		t.Errorf("all declared: %v", err)
	}
}
