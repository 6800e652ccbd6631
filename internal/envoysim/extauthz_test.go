package envoysim

import (
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestApplyHeaderOption pins the emulated handling of OkHttpResponse
// header options to Envoy's (with append_action support, 1.38+).
func TestApplyHeaderOption(t *testing.T) {
	cases := []struct {
		name    string
		opt     *corev3.HeaderValueOption
		present bool // the client sent x-user: client
		want    []string
	}{
		{"default appends a second header", &corev3.HeaderValueOption{}, true, []string{"client", "ours"}},
		{"default adds when absent", &corev3.HeaderValueOption{}, false, []string{"ours"}},
		{"overwrite", &corev3.HeaderValueOption{AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}, true, []string{"ours"}},
		{"overwrite adds", &corev3.HeaderValueOption{AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}, false, []string{"ours"}},
		{"add if absent keeps the client's", &corev3.HeaderValueOption{AppendAction: corev3.HeaderValueOption_ADD_IF_ABSENT}, true, []string{"client"}},
		{"add if absent adds", &corev3.HeaderValueOption{AppendAction: corev3.HeaderValueOption_ADD_IF_ABSENT}, false, []string{"ours"}},
		{"overwrite if exists", &corev3.HeaderValueOption{AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS}, true, []string{"ours"}},
		{"overwrite if exists skips", &corev3.HeaderValueOption{AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS}, false, nil},
		//lint:ignore SA1019 the emulator honours the deprecated field as Envoy does
		{"deprecated append false overwrites", &corev3.HeaderValueOption{Append: wrapperspb.Bool(false)}, true, []string{"ours"}},
		//lint:ignore SA1019 the emulator honours the deprecated field as Envoy does
		{"deprecated append true joins", &corev3.HeaderValueOption{Append: wrapperspb.Bool(true)}, true, []string{"client,ours"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &Headers{}
			if c.present {
				h.Add("x-user", "client")
			}
			applyHeaderOption(h, "x-user", "ours", c.opt)
			if got := h.Values("x-user"); !slices.Equal(got, c.want) {
				t.Errorf("x-user = %q, want %q", got, c.want)
			}
		})
	}
}
