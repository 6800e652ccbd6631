package translate

import (
	"strings"
	"testing"
)

func TestCheckMatchTemplate(t *testing.T) {
	tests := []struct {
		tmpl    string
		vars    []string
		wantErr string
	}{
		{tmpl: "/a/{b}", vars: []string{"b"}},
		{tmpl: "/a/{b}/c/{d=**}", vars: []string{"b", "d"}},
		{tmpl: "/a/{b=*}", vars: []string{"b"}},
		{tmpl: "/a/{b}/", wantErr: "empty segment"},
		{tmpl: "/a/{b+}", wantErr: "variable name"},
		{tmpl: "/a/{b=**}/c", wantErr: "must be the last"},
		{tmpl: "/a/{user-id}", wantErr: "variable name"},
		{tmpl: "/a/{abcdefghijklmnopq}", wantErr: "variable name"},
		{tmpl: "/a/{b}/{b}", wantErr: "appears twice"},
		{tmpl: "/{a}/{b}/{c}/{d}/{e}/{f}", wantErr: "variables"},
		{tmpl: "/a/x{b}", wantErr: "mixes"},
		{tmpl: "/a//b", wantErr: "empty segment"},
		{tmpl: "/a/b c", wantErr: "characters"},
		{tmpl: "/a/*", wantErr: "characters"},
		{tmpl: "a/b", wantErr: "must start"},
		{tmpl: "/" + strings.Repeat("a", 256), wantErr: "longer"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			vars, err := checkMatchTemplate(tt.tmpl)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(vars, ",") != strings.Join(tt.vars, ",") {
				t.Errorf("vars = %v, want %v", vars, tt.vars)
			}
		})
	}
}

func TestCheckRewriteTemplate(t *testing.T) {
	tests := []struct {
		tmpl    string
		wantErr string
	}{
		{tmpl: "/v1/{b}"},
		{tmpl: "/v1/{b}.json/{d}"},
		{tmpl: "/v1/static"},
		{tmpl: "/v1/{x}", wantErr: "not captured"},
		{tmpl: "/v1/{b", wantErr: "unterminated"},
		{tmpl: "v1", wantErr: "must start"},
		{tmpl: "/v 1", wantErr: "characters"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			err := checkRewriteTemplate(tt.tmpl, []string{"b", "d"})
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
