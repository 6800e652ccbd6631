package model

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
)

// Name rules of spec §1-§6. \p{L} covers letters including CJK.
var (
	reGroupName    = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}\-_./()：:、]{2,254}$`)
	rePolicyName   = regexp.MustCompile(`^\p{L}[\p{L}\p{N}_]{2,63}$`)
	reChannelName  = regexp.MustCompile(`^\p{L}[\p{L}\p{N}_.\-]{2,63}$`)
	reEnvName      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{2,63}$`)
	reVarName      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_\-]{2,31}$`)
	reVarValue     = regexp.MustCompile(`^[A-Za-z0-9_\-/.:]{1,255}$`)
	reParamName    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._\-]{0,31}$`)
	reAppKey       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_\-]{7,199}$`)
	reAppSecret    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_\-!@#$%]{7,127}$`)
	reAppCode      = regexp.MustCompile(`^[A-Za-z0-9+/][A-Za-z0-9+_!@#$%\-/=]{63,179}$`)
	reResponseName = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)
	reCertName     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{3,49}$`)
	reQuotaName    = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}_\-]{2,254}$`)
	reInstanceName = regexp.MustCompile(`^[a-z0-9]([a-z0-9\-]{0,62}[a-z0-9])?$`)
	reID           = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)
	reHeaderName   = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+\-.^_|~]+$`)
	reRespHdrKey   = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,128}$`)
	reDNSLabel     = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?$`)
	reAccountName  = regexp.MustCompile(`^[^,]{1,64}$`)
	reAllDigits    = regexp.MustCompile(`^[0-9]+$`)
)

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
// ("" if it is allowed), per spec §1.7.
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
