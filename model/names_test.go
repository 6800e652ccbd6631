package model

import (
	"regexp"
	"strings"
	"testing"
)

// TestBoundedPatterns: the name patterns checked by length in runes
// accept and refuse exactly what the counted regular expressions did.
func TestBoundedPatterns(t *testing.T) {
	cases := []struct {
		got  boundedPattern
		want string
	}{
		{reGroupName, `^[\p{L}\p{N}][\p{L}\p{N}\-_./()：:、]{2,254}$`},
		{rePolicyName, `^\p{L}[\p{L}\p{N}_]{2,63}$`},
		{reChannelName, `^\p{L}[\p{L}\p{N}_.\-]{2,63}$`},
		{reQuotaName, `^[\p{L}\p{N}][\p{L}\p{N}_\-]{2,254}$`},
	}
	inputs := []string{"", "a", "ab", "abc", "a_b", "_ab", "1ab", "组名称", "组名", "a.b-c", "a b c", "a：b、c", "ab\n",
		"a" + strings.Repeat("b", 62), "a" + strings.Repeat("b", 63), "a" + strings.Repeat("名", 254), "a" + strings.Repeat("名", 255)}
	for _, c := range cases {
		want := regexp.MustCompile(c.want)
		for _, in := range inputs {
			if got := c.got.MatchString(in); got != want.MatchString(in) {
				t.Errorf("%s on %q: %v, want %v", c.want, in, got, !got)
			}
		}
	}
}
