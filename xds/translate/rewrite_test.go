package translate

import (
	"testing"

	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func TestPlanRewrite(t *testing.T) {
	tests := []struct {
		name, front, mode, back string
		params                  []*apigwv1.BackendParam
		reqParams               []*apigwv1.ReqParam
		want                    pathRewrite
		ext                     bool
	}{
		{name: "prefix remainder passthrough", front: "/test/", mode: model.MatchPrefix, back: "/test2/", want: pathRewrite{prefix: "/test2"}},
		{name: "prefix to root", front: "/test", mode: model.MatchPrefix, back: "/", want: pathRewrite{regex: regexRewrite("^/test/?", "/")}},
		{name: "root prefix to path", front: "/", mode: model.MatchPrefix, back: "/v1", want: pathRewrite{prefix: "/v1/"}},
		{name: "same prefix", front: "/a", mode: model.MatchPrefix, back: "/a/", want: pathRewrite{}},
		{name: "exact", front: "/a", mode: model.MatchNormal, back: "/b", want: pathRewrite{prefix: "/b"}},
		{name: "exact identity", front: "/a", mode: model.MatchNormal, back: "/a", want: pathRewrite{}},
		{name: "template", front: "/u/{id}", mode: model.MatchNormal, back: "/v1/{id}.json", want: pathRewrite{template: "/v1/{id}.json"}},
		{name: "greedy", front: "/f/{p+}", mode: model.MatchNormal, back: "/s/{p}", want: pathRewrite{template: "/s/{p}"}},
		{name: "renamed variable", front: "/u/{user-id}", mode: model.MatchNormal, back: "/v/{user-id}", want: pathRewrite{template: "/v/{p1}"}},
		{name: "constant", front: "/u/{id}", mode: model.MatchNormal, back: "/v/{k}/{id}",
			params: []*apigwv1.BackendParam{{Name: "k", Location: model.LocPath, Origin: model.OriginConstant, Value: "a b/c"}},
			want:   pathRewrite{template: "/v/a%20b%2Fc/{id}"}},
		{name: "header into path needs ext_authz", front: "/u", mode: model.MatchNormal, back: "/v/{h}",
			params:    []*apigwv1.BackendParam{{Name: "h", Location: model.LocPath, Origin: model.OriginRequest, Value: "X-H"}},
			reqParams: []*apigwv1.ReqParam{{Name: "X-H", Location: model.LocHeader}},
			want:      pathRewrite{formatter: metadataPathRewrite}, ext: true},
		{name: "prefix with parameter and remainder", front: "/s/{id}", mode: model.MatchPrefix, back: "/o/{id}", want: pathRewrite{template: "/o/{id}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := model.ParseFrontendPath(tt.front)
			if err != nil {
				t.Fatal(err)
			}
			fe, err := parseFrontend(tmpl, tt.front, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			api := &apigwv1.Api{ReqUri: tt.front, ReqParams: tt.reqParams}
			for _, p := range tmpl.Params() {
				api.ReqParams = append(api.ReqParams, &apigwv1.ReqParam{Name: p, Location: model.LocPath})
			}
			got, ext := planRewrite(fe.matches[0], api, tt.back, tt.params)
			if ext != tt.ext || got.prefix != tt.want.prefix || got.template != tt.want.template || got.formatter != tt.want.formatter ||
				(got.regex == nil) != (tt.want.regex == nil) || (got.regex != nil && (got.regex.Pattern.Regex != tt.want.regex.Pattern.Regex || got.regex.Substitution != tt.want.regex.Substitution)) {
				t.Errorf("planRewrite = %+v (ext %v), want %+v (ext %v)", got, ext, tt.want, tt.ext)
			}
		})
	}
}

func regexRewrite(pattern, sub string) *matcherv3.RegexMatchAndSubstitute {
	return &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: pattern}, Substitution: sub}
}
