package sign

import (
	"errors"
	"strings"
)

// Authorization is a parsed SDK-HMAC-SHA256 Authorization header value.
type Authorization struct {
	// Access is the app key.
	Access string
	// SignedHeaders is the semicolon-separated lower-case header list as
	// sent.
	SignedHeaders string
	// Signature is the hex signature as sent.
	Signature string
}

// String formats the header value.
func (a Authorization) String() string {
	return Algorithm + " Access=" + a.Access + ", SignedHeaders=" + a.SignedHeaders + ", Signature=" + a.Signature
}

// ErrMalformedAuthorization is returned for an Authorization value that is
// not an SDK-HMAC-SHA256 signature.
var ErrMalformedAuthorization = errors.New("malformed SDK-HMAC-SHA256 authorization header")

// ParseAuthorization parses
//
//	SDK-HMAC-SHA256 Access=<key>, SignedHeaders=<h1;h2>, Signature=<hex>
//
// accepting any run of blanks after the algorithm and an optional blank
// after each comma, as Huawei's verification samples do. Field names are
// case-sensitive; the three fields must appear in this order.
func ParseAuthorization(v string) (Authorization, error) {
	var a Authorization
	rest, ok := strings.CutPrefix(v, Algorithm)
	if !ok || rest == "" || !isBlank(rest[0]) {
		return a, ErrMalformedAuthorization
	}
	rest = strings.TrimLeft(rest, " \t")
	var err error
	if a.Access, rest, err = field(rest, "Access=", true); err != nil {
		return a, err
	}
	if a.SignedHeaders, rest, err = field(rest, "SignedHeaders=", true); err != nil {
		return a, err
	}
	if a.Signature, rest, err = field(rest, "Signature=", false); err != nil {
		return a, err
	}
	if strings.TrimRight(rest, " \t") != "" {
		return a, ErrMalformedAuthorization
	}
	for i := 0; i < len(a.Signature); i++ {
		if !isWord(a.Signature[i]) {
			return a, ErrMalformedAuthorization
		}
	}
	return a, nil
}

// field reads name=value up to the next comma (comma-terminated fields
// must have one) and skips one optional blank after it.
func field(s, name string, comma bool) (value, rest string, err error) {
	s, ok := strings.CutPrefix(s, name)
	if !ok {
		return "", "", ErrMalformedAuthorization
	}
	i := strings.IndexByte(s, ',')
	switch {
	case comma && i < 0:
		return "", "", ErrMalformedAuthorization
	case comma:
		value, rest = s[:i], s[i+1:]
		if rest != "" && isBlank(rest[0]) {
			rest = rest[1:]
		}
	case i >= 0:
		return "", "", ErrMalformedAuthorization
	default:
		value = s
		if j := strings.IndexAny(value, " \t"); j >= 0 {
			value, rest = value[:j], value[j:]
		}
	}
	if value == "" {
		return "", "", ErrMalformedAuthorization
	}
	return value, rest, nil
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}
