package model_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

func hasViolation(vs model.Violations, field, text string) bool {
	for _, v := range vs {
		if v.Field == field && strings.Contains(v.Description, text) {
			return true
		}
	}
	return false
}

var mappedShard = &apigwv1.OrchestrationMappedParam{MappedParamName: "X-Shard", MappedParamType: "number", MappedParamLocation: "header"}

func listRule(id string) *apigwv1.Orchestration {
	return &apigwv1.Orchestration{Id: id, OrchestrationName: id, OrchestrationStrategy: model.OrchList, OrchestrationMappedParam: mappedShard,
		OrchestrationMap: []*apigwv1.OrchestrationMap{{MapParamList: []string{"a", "b"}, MappedParamValue: "1"}}}
}

// A rule's own rules, field by field.
func TestOrchestrationRuleValidation(t *testing.T) {
	lim := model.AbsoluteLimits()
	if vs := model.Validate(listRule("tenant_rule"), lim); len(vs) > 0 {
		t.Fatalf("valid rule refused: %v", vs)
	}
	for _, c := range []struct {
		name        string
		edit        func(o *apigwv1.Orchestration)
		field, text string
	}{
		{"name", func(o *apigwv1.Orchestration) { o.OrchestrationName = "1ab" }, "orchestration_name", "3-64"},
		{"strategy", func(o *apigwv1.Orchestration) { o.OrchestrationStrategy = "regex" }, "orchestration_strategy", "one of"},
		{"mapped param required", func(o *apigwv1.Orchestration) { o.OrchestrationMappedParam = nil }, "orchestration_mapped_param", "required"},
		{"mapped name", func(o *apigwv1.Orchestration) {
			o.OrchestrationMappedParam = &apigwv1.OrchestrationMappedParam{MappedParamName: "x_y", MappedParamType: "string", MappedParamLocation: "header"}
		}, "orchestration_mapped_param.mapped_param_name", "[A-Za-z0-9-]"},
		{"mapped location", func(o *apigwv1.Orchestration) {
			o.OrchestrationMappedParam = &apigwv1.OrchestrationMappedParam{MappedParamName: "x", MappedParamType: "string", MappedParamLocation: "path"}
		}, "orchestration_mapped_param.mapped_param_location", "one of"},
		{"number value", func(o *apigwv1.Orchestration) { o.OrchestrationMap[0].MappedParamValue = "abc" }, "orchestration_map[0].mapped_param_value", "must be a number"},
		{"list value", func(o *apigwv1.Orchestration) { o.OrchestrationMap[0].MapParamList = []string{"a b"} }, "orchestration_map[0].map_param_list[0]", "[A-Za-z0-9_-]"},
		{"list twice", func(o *apigwv1.Orchestration) {
			o.OrchestrationMap = append(o.OrchestrationMap, &apigwv1.OrchestrationMap{MapParamList: []string{"b"}, MappedParamValue: "2"})
		}, "orchestration_map[1].map_param_list[0]", "listed twice"},
		{"no entries", func(o *apigwv1.Orchestration) { o.OrchestrationMap = nil }, "orchestration_map", "1-300"},
		{"range order", func(o *apigwv1.Orchestration) {
			o.OrchestrationStrategy = model.OrchRange
			o.OrchestrationMap = []*apigwv1.OrchestrationMap{{MapParamRange: &apigwv1.OrchestrationRange{RangeStart: "5", RangeEnd: "4"}, MappedParamValue: "1"}}
		}, "orchestration_map[0].map_param_range.range_start", "must not exceed"},
		{"range bound", func(o *apigwv1.Orchestration) {
			o.OrchestrationStrategy = model.OrchHashRange
			o.OrchestrationMap = []*apigwv1.OrchestrationMap{{MapParamRange: &apigwv1.OrchestrationRange{RangeStart: "0", RangeEnd: "9223372036854775808"}, MappedParamValue: "1"}}
		}, "orchestration_map[0].map_param_range.range_end", "0-9223372036854775807"},
		{"hash entries", func(o *apigwv1.Orchestration) { o.OrchestrationStrategy = model.OrchHash }, "orchestration_map", "empty for hash"},
		{"intercept", func(o *apigwv1.Orchestration) {
			o.OrchestrationStrategy = model.OrchHeadN
			o.OrchestrationMap = []*apigwv1.OrchestrationMap{{InterceptLength: 101}}
		}, "orchestration_map[0].intercept_length", "between"},
		{"default preprocessing", func(o *apigwv1.Orchestration) {
			o.OrchestrationStrategy = model.OrchDefault
			o.IsPreprocessing = true
			o.OrchestrationMap = []*apigwv1.OrchestrationMap{{MappedParamValue: "1"}}
		}, "is_preprocessing", "not allowed"},
	} {
		o := listRule("tenant_rule")
		c.edit(o)
		if vs := model.Validate(o, lim); !hasViolation(vs, c.field, c.text) {
			t.Errorf("%s: %v, want %s: %s", c.name, vs, c.field, c.text)
		}
	}
}

// Binding rules to an API's parameter.
func TestOrchestrationBinding(t *testing.T) {
	pre := &apigwv1.Orchestration{Id: "head2", OrchestrationName: "head2", OrchestrationStrategy: model.OrchHeadN, IsPreprocessing: true,
		OrchestrationMap: []*apigwv1.OrchestrationMap{{InterceptLength: 2}}}
	def := &apigwv1.Orchestration{Id: "dflt", OrchestrationName: "dflt", OrchestrationStrategy: model.OrchDefault, OrchestrationMappedParam: mappedShard,
		OrchestrationMap: []*apigwv1.OrchestrationMap{{MappedParamValue: "9"}}}
	def2 := proto.Clone(def).(*apigwv1.Orchestration)
	def2.Id, def2.OrchestrationName = "dflt2", "dflt2"
	other := listRule("other")
	other.OrchestrationMappedParam = &apigwv1.OrchestrationMappedParam{MappedParamName: "X-Other", MappedParamType: "number", MappedParamLocation: "header"}
	api := func(rules []string, edit func(a *apigwv1.Api)) *apigwv1.Api {
		a := &apigwv1.Api{Id: "a1", Name: "sharded", GroupId: "g1", ReqMethod: "GET", ReqUri: "/s", AuthType: model.AuthNone, ReqProtocol: model.ProtoHTTPS,
			BackendType: model.BackendHTTP, BackendApi: &apigwv1.BackendApi{UrlDomain: "b.internal", ReqProtocol: model.ProtoHTTP, ReqMethod: "GET", ReqUri: "/s", Timeout: 5000},
			ReqParams:     []*apigwv1.ReqParam{{Name: "tenant", Location: model.LocQuery, Type: model.TypeString, Orchestrations: rules}},
			BackendParams: []*apigwv1.BackendParam{{Name: "shard", Location: model.LocQuery, Origin: model.OriginRequest, Value: "X-Shard"}}}
		model.Normalize(a)
		if edit != nil {
			edit(a)
		}
		return a
	}
	base := []proto.Message{&apigwv1.ApiGroup{Id: "g1", Name: "shop"}, listRule("by_list"), pre, def, def2, other}
	check := func(a *apigwv1.Api) model.Violations {
		vs := model.Validate(a, model.AbsoluteLimits())
		return append(vs, model.NewInstance(model.DefaultInstance, append(base, a)).Check(a)...)
	}
	if vs := check(api([]string{"head2", "by_list", "dflt"}, nil)); len(vs) > 0 {
		t.Fatalf("valid binding refused: %v", vs)
	}
	for _, c := range []struct {
		name        string
		a           *apigwv1.Api
		field, text string
	}{
		{"missing rule", api([]string{"nope"}, nil), "req_params[0].orchestrations[0]", "does not exist"},
		{"twice", api([]string{"by_list", "by_list"}, nil), "req_params[0].orchestrations", "bound twice"},
		{"two defaults", api([]string{"by_list", "dflt", "dflt2"}, nil), "req_params[0].orchestrations", "at most one default"},
		{"preprocessing last", api([]string{"by_list", "head2"}, nil), "req_params[0].orchestrations", "must be followed"},
		{"preprocessing before default only", api([]string{"head2", "dflt"}, nil), "req_params[0].orchestrations", "must be followed"},
		{"two mapped parameters", api([]string{"by_list", "other"}, nil), "req_params[0].orchestrations", "the others to X-Shard"},
		{"mapped parameter declared", api([]string{"by_list"}, func(a *apigwv1.Api) {
			a.ReqParams = append(a.ReqParams, &apigwv1.ReqParam{Name: "x-shard", Location: model.LocHeader, Type: model.TypeString})
		}), "req_params[0].orchestrations", "is a declared parameter"},
		{"unknown backend source", api([]string{"by_list"}, func(a *apigwv1.Api) { a.BackendParams[0].Value = "X-Nope" }), "backend_params[0].value", "no declared request parameter or mapped parameter"},
	} {
		if vs := check(c.a); !hasViolation(vs, c.field, c.text) {
			t.Errorf("%s: %v, want %s: %s", c.name, vs, c.field, c.text)
		}
	}

	// A rule change that breaks an API's chain is refused.
	a := api([]string{"head2", "by_list"}, nil)
	in := model.NewInstance(model.DefaultInstance, append(base, a))
	broken := listRule("by_list")
	broken.IsPreprocessing, broken.OrchestrationMappedParam = true, nil
	if vs := in.With([]proto.Message{broken}, nil).Check(broken); !hasViolation(vs, "orchestration_strategy", "API sharded") {
		t.Errorf("a rule change breaking an API: %v", vs)
	}
}
