package model

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Name rules (docs/apig-semantics.md#names-and-quotas). \p{L} covers
// letters including CJK.
var (
	reGroupName    = runeRange(`^[\p{L}\p{N}][\p{L}\p{N}\-_./()：:、]*$`, 3, 255)
	rePolicyName   = runeRange(`^\p{L}[\p{L}\p{N}_]*$`, 3, 64)
	reChannelName  = runeRange(`^\p{L}[\p{L}\p{N}_.\-]*$`, 3, 64)
	reEnvName      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{2,63}$`)
	reVarName      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_\-]{2,31}$`)
	reVarValue     = regexp.MustCompile(`^[A-Za-z0-9_\-/.:]{1,255}$`)
	reParamName    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._\-]{0,31}$`)
	reAppKey       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_\-]{7,199}$`)
	reAppSecret    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_\-!@#$%]{7,127}$`)
	reAppCode      = regexp.MustCompile(`^[A-Za-z0-9+/][A-Za-z0-9+_!@#$%\-/=]{63,179}$`)
	reResponseName = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)
	reCertName     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{3,49}$`)
	reQuotaName    = runeRange(`^[\p{L}\p{N}][\p{L}\p{N}_\-]*$`, 3, 255)
	reInstanceName = regexp.MustCompile(`^[a-z0-9]([a-z0-9\-]{0,62}[a-z0-9])?$`)
	reID           = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)
	reHeaderName   = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+\-.^_|~]+$`)
	reRespHdrKey   = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,128}$`)
	reDNSLabel     = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?$`)
	reAccountName  = regexp.MustCompile(`^[^,]{1,64}$`)
	reAllDigits    = regexp.MustCompile(`^[0-9]+$`)
)

// boundedPattern is a pattern with a length in runes checked apart: a
// counted repetition of a Unicode class such as [\p{L}]{2,254} compiles
// to megabytes.
type boundedPattern struct {
	re       *regexp.Regexp
	min, max int
}

func runeRange(pattern string, min, max int) boundedPattern {
	return boundedPattern{re: regexp.MustCompile(pattern), min: min, max: max}
}

// MatchString reports whether s has min to max runes and matches.
func (p boundedPattern) MatchString(s string) bool {
	n := utf8.RuneCountInString(s)
	return n >= p.min && n <= p.max && p.re.MatchString(s)
}

const (
	patGroupName  = "3-255 letters, digits, CJK or -_./()：:、, starting with a letter, CJK or digit"
	patPolicyName = "3-64 letters, CJK, digits or underscores, starting with a letter or CJK"
)

// NewID returns a random 32-hex-digit identifier, the form APIG uses.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewSecret returns a random secret of n characters from [A-Za-z0-9].
func NewSecret(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// ValidDomain reports whether d is a DNS name, optionally a one-level
// wildcard "*.example.com".
func ValidDomain(d string, allowWildcard bool) bool {
	if allowWildcard && strings.HasPrefix(d, "*.") {
		d = d[2:]
	}
	if d == "" || len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if !reDNSLabel.MatchString(l) {
			return false
		}
	}
	return len(labels) >= 2
}

// ValidHeaderName reports whether s is an HTTP header token.
func ValidHeaderName(s string) bool { return reHeaderName.MatchString(s) }

// ReservedParam reports why a parameter name is reserved at a location
// ("" if it is allowed); see docs/apig-semantics.md#request-parameters.
func ReservedParam(name, location string, backend bool) string {
	l := strings.ToLower(name)
	switch {
	case strings.HasPrefix(l, "x-apig-"), strings.HasPrefix(l, "x-sdk-"):
		return "must not start with x-apig- or x-sdk-"
	case l == "x-stage":
		return "x-stage is reserved"
	}
	if location != LocHeader {
		return ""
	}
	switch {
	case !backend && (l == "authorization" || l == "x-auth-token"):
		return "Authorization and X-Auth-Token are reserved"
	case !backend && strings.Contains(name, "_"):
		return "header parameters must not contain _"
	case backend && strings.HasPrefix(name, "_"):
		return "header parameters must not start with _"
	}
	return ""
}
