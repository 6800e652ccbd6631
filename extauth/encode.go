package extauth

import "strings"

// APIG percent-encodes backend parameter values before sending them
// (docs/apig-semantics.md#percent-encoding): control bytes, bytes ≥ 0x7F,
// whitespace and, for PATH,
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

// hasDotSegment reports whether a value placed in the backend path holds a
// "." or ".." segment in any form a backend may decode: segments end at
// "/" or "\" and at their encodings %2F and %5C, and a dot may be sent as
// "." or %2E (either case). A backend that normalises the path would
// resolve such a segment against the backend path the API configures.
func hasDotSegment(s string) bool {
	dots, other := 0, false
	for i := 0; i <= len(s); i++ {
		sep := i == len(s) || s[i] == '/' || s[i] == '\\'
		n := 1
		if !sep && s[i] == '%' && i+2 < len(s) {
			switch s[i+1 : i+3] {
			case "2F", "2f", "5C", "5c":
				sep, n = true, 3
			case "2E", "2e":
				dots++
				i += 2
				continue
			}
		}
		switch {
		case sep:
			if !other && (dots == 1 || dots == 2) {
				return true
			}
			dots, other = 0, false
			i += n - 1
		case s[i] == '.':
			dots++
		default:
			other = true
		}
	}
	return false
}
