package sign

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
)

// Names and formats of the protocol.
const (
	// Algorithm is the scheme of the Authorization header and the first
	// line of the string to sign.
	Algorithm = "SDK-HMAC-SHA256"
	// DateHeader carries the signing time.
	DateHeader = "X-Sdk-Date"
	// DateFormat is the layout of DateHeader (UTC).
	DateFormat = "20060102T150405Z"
	// ContentSHA256Header may carry UnsignedPayload to leave the body out.
	ContentSHA256Header = "X-Sdk-Content-Sha256"
	// UnsignedPayload replaces the body hash when sent in
	// ContentSHA256Header.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// AuthorizationHeader is the default header carrying the signature.
	AuthorizationHeader = "Authorization"
)

// Lower-case forms of the header names, as Envoy and HTTP/2 send them.
const (
	dateKey   = "x-sdk-date"
	sha256Key = "x-sdk-content-sha256"
	hostKey   = "host"
)

// EmptyPayloadHash is the hex SHA-256 of an empty body.
const EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// ErrInvalidPath is returned for a path whose percent-encoding is invalid.
var ErrInvalidPath = errors.New("invalid percent-encoding in the request path")

// Header gives the values of a request header. name is lower case.
// http.Header satisfies it.
type Header interface {
	Values(name string) []string
}

// Request is the part of an HTTP request a signature covers.
type Request struct {
	// Method is the request method, upper case.
	Method string
	// Host is the request authority (host[:port]); it is the value of the
	// signed header "host".
	Host string
	// Path is the request path as sent: percent-encoded, without query.
	Path string
	// RawQuery is the query string as sent, without "?".
	RawQuery string
	// Header holds the request headers.
	Header Header
	// Body is the request body. It is hashed unless the request sends
	// X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD.
	Body []byte
}

// CanonicalRequest returns the canonical request of r for the
// semicolon-separated lower-case signedHeaders and the payload hash.
func CanonicalRequest(r *Request, signedHeaders, payloadHash string) (string, error) {
	b, err := appendCanonicalRequest(nil, r, signedHeaders, []byte(payloadHash))
	return string(b), err
}

func appendCanonicalRequest(dst []byte, r *Request, signedHeaders string, payloadHash []byte) ([]byte, error) {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	var err error
	if dst, err = AppendCanonicalURI(dst, r.Path); err != nil {
		return dst, err
	}
	dst = append(dst, '\n')
	dst = AppendCanonicalQuery(dst, r.RawQuery)
	dst = append(dst, '\n')
	dst = appendCanonicalHeaders(dst, r, signedHeaders)
	dst = append(dst, '\n')
	dst = append(dst, signedHeaders...)
	dst = append(dst, '\n')
	dst = append(dst, payloadHash...)
	return dst, nil
}

// AppendCanonicalURI appends the canonical URI of a request path (as sent,
// percent-encoded): the decoded path, each segment encoded with the
// unreserved set, with "/" appended unless it already ends with one.
func AppendCanonicalURI(dst []byte, rawPath string) ([]byte, error) {
	p, err := url.PathUnescape(rawPath)
	if err != nil {
		return dst, ErrInvalidPath
	}
	start := len(dst)
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == '/' {
			dst = append(dst, '/')
		} else {
			dst = appendEscapedByte(dst, c)
		}
	}
	if len(dst) == start || dst[len(dst)-1] != '/' {
		dst = append(dst, '/')
	}
	return dst, nil
}

// CanonicalURI returns the canonical URI of a request path.
func CanonicalURI(rawPath string) (string, error) {
	b, err := AppendCanonicalURI(nil, rawPath)
	return string(b), err
}

type queryPair struct{ k, v string }

// AppendCanonicalQuery appends the canonical query string of a raw query:
// pairs decoded as url.ParseQuery does (pieces with ";" or invalid
// escapes are dropped), sorted by decoded name and then value, each name
// and value encoded with the unreserved set and joined as "n=v" with "&".
func AppendCanonicalQuery(dst []byte, rawQuery string) []byte {
	if rawQuery == "" {
		return dst
	}
	var stack [8]queryPair
	pairs := stack[:0]
	for q := rawQuery; q != ""; {
		var piece string
		piece, q, _ = strings.Cut(q, "&")
		if piece == "" || strings.IndexByte(piece, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		pairs = append(pairs, queryPair{k, v})
	}
	slices.SortFunc(pairs, func(a, b queryPair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = appendEscaped(dst, p.k)
		dst = append(dst, '=')
		dst = appendEscaped(dst, p.v)
	}
	return dst
}

// CanonicalQuery returns the canonical query string of a raw query.
func CanonicalQuery(rawQuery string) string { return string(AppendCanonicalQuery(nil, rawQuery)) }

// appendCanonicalHeaders writes one "name:value\n" line per value of each
// signed header, in the order of signedHeaders, values trimmed and sorted.
func appendCanonicalHeaders(dst []byte, r *Request, signedHeaders string) []byte {
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		if name == "" {
			continue
		}
		var vals []string
		if name == hostKey && r.Host != "" {
			dst = appendHeaderLine(dst, name, r.Host)
			continue
		}
		if r.Header != nil {
			vals = r.Header.Values(name)
		}
		if len(vals) > 1 && !slices.IsSorted(vals) {
			vals = slices.Clone(vals)
			slices.Sort(vals)
		}
		for _, v := range vals {
			dst = appendHeaderLine(dst, name, v)
		}
	}
	return dst
}

func appendHeaderLine(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':')
	dst = append(dst, strings.TrimSpace(value)...)
	return append(dst, '\n')
}

const upperHex = "0123456789ABCDEF"

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func appendEscapedByte(dst []byte, c byte) []byte {
	if unreserved(c) {
		return append(dst, c)
	}
	return append(dst, '%', upperHex[c>>4], upperHex[c&15])
}

func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = appendEscapedByte(dst, s[i])
	}
	return dst
}

// Escape percent-encodes s with the unreserved set (A-Z a-z 0-9 - _ . ~),
// upper-case hex, space as %20.
func Escape(s string) string { return string(appendEscaped(nil, s)) }

// PayloadHash returns the payload line of the canonical request: the
// literal X-Sdk-Content-Sha256 value when the request sends one, else the
// hex SHA-256 of the body.
func PayloadHash(r *Request) string {
	if r.Header != nil {
		if v := r.Header.Values(sha256Key); len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	return BodyHash(r.Body)
}

// BodyHash is the hex SHA-256 of a body.
func BodyHash(body []byte) string {
	if len(body) == 0 {
		return EmptyPayloadHash
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
