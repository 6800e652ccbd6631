package extauth

import "strings"

// APIG percent-encodes backend parameter values before sending them
// (spec §1.9): control bytes, bytes ≥ 0x7F, whitespace and, for PATH,
// ? > < / % # " [ \ ] ^ ` { | }; for QUERY, > = < + & % # " [ \ ] ^ ` { | }.
const (
	pathSpecials  = "?></%#\"[\\]^`{|}"
	querySpecials = "><=+&%#\"[\\]^`{|}"
)

func encodePathValue(s string) string  { return encodeAPIG(s, pathSpecials) }
func encodeQueryValue(s string) string { return encodeAPIG(s, querySpecials) }

func encodeAPIG(s, specials string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if mustEncode(s[i], specials) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if mustEncode(c, specials) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func mustEncode(c byte, specials string) bool {
	return c <= 0x20 || c >= 0x7F || strings.IndexByte(specials, c) >= 0
}
