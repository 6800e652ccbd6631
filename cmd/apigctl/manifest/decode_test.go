package manifest_test

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/cmd/apigctl/manifest"
	"github.com/apigw/apigw/model"
)

func TestDecodeFormats(t *testing.T) {
	tests := []struct {
		name, in string
		kinds    []string
		err      string
	}{
		{"yaml stream with comments", "# c\nkind: group\nname: pets\n---\n---\nkind: environment\nname: TEST\n...\n", []string{"group", "environment"}, ""},
		{"json object", `{"kind":"acl","acl_name":"a1x"}`, []string{"acl"}, ""},
		{"json array", `[{"kind":"acl","acl_name":"a1x"},{"kind":"app","name":"app1"}]`, []string{"acl", "app"}, ""},
		{"json stream", "{\"kind\":\"acl\"}\n{\"kind\":\"app\"}\n", []string{"acl", "app"}, ""},
		{"missing kind", "name: x\n", nil, "x#1: kind is missing"},
		{"internal kind", "kind: publication\n", nil, `unknown kind "publication"`},
		{"bad field type", "kind: throttle\napi_call_limits: many\n", nil, "x#1: throttle:"},
		{"not a mapping", "- 1\n- 2\n", nil, "a document must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := manifest.Decode([]byte(tt.in), "x")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, d := range docs {
				_, k := model.Unwrap(d.Resource)
				kinds = append(kinds, k.Name)
			}
			if strings.Join(kinds, ",") != strings.Join(tt.kinds, ",") {
				t.Errorf("kinds %v, want %v", kinds, tt.kinds)
			}
		})
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	in := "kind: api\nname: get_pet\ngroup_id: pets\nreq_params:\n- name: id\n  location: PATH\n  min_num: 0\n"
	docs, err := manifest.Decode([]byte(in), "x")
	if err != nil {
		t.Fatal(err)
	}
	y, err := manifest.YAML(docs[0].Resource)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(y), "kind: api\n") || !strings.Contains(string(y), "min_num: 0") {
		t.Errorf("YAML:\n%s", y)
	}
	again, err := manifest.Decode(y, "y")
	if err != nil || len(again) != 1 {
		t.Fatal(err)
	}
}
