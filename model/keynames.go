package model

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Names that become part of an etcd key: an instance name and the id of
// every object (a release is keyed by its API id and environment id). They
// are checked wherever a key is built, so that no value can write outside
// its own key, e.g. an instance "default/apis" into another instance.
const (
	instanceNameRule = "must be 1-64 of [a-z0-9-], starting and ending alphanumeric"
	idRule           = "must be 1-64 of [A-Za-z0-9_-]"
)

// CheckInstanceName reports, under field, why name cannot name an instance.
func CheckInstanceName(field, name string) Violations {
	if reInstanceName.MatchString(name) {
		return nil
	}
	var vs Violations
	vs.Add(field, "%s (got %s)", instanceNameRule, Excerpt(name))
	return vs
}

// CheckID reports, under field, why id cannot be an object id.
func CheckID(field, id string) Violations {
	if reID.MatchString(id) {
		return nil
	}
	var vs Violations
	vs.Add(field, "%s (got %s)", idRule, Excerpt(id))
	return vs
}

// CheckKeyOf reports why the identifier of m cannot be part of an etcd key.
func CheckKeyOf(m proto.Message) Violations {
	switch v := m.(type) {
	case *apigwv1.Instance:
		return CheckInstanceName("name", v.Name)
	case *apigwv1.Release:
		return append(CheckID("api_id", v.ApiId), CheckID("env_id", v.EnvId)...)
	}
	return CheckID("id", IDOf(m))
}

// CheckKeyID reports why id cannot be the key id of an object of kind k
// (for a release: "<api id>/<env id>").
func CheckKeyID(k *Kind, id string) Violations {
	switch k.Name {
	case KindInstance:
		return CheckInstanceName("name", id)
	case KindRelease:
		api, env, _ := strings.Cut(id, "/")
		return append(CheckID("api_id", api), CheckID("env_id", env)...)
	}
	return CheckID("id", id)
}

// Excerpt quotes s for a message: at most 64 bytes of it, Go-escaped (so
// control characters and invalid UTF-8 show as escapes), with the full
// length when cut.
func Excerpt(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := s[:max]
	return strconv.Quote(cut) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// EscapeInvalidUTF8 returns s with every byte that is not part of valid
// UTF-8 written as \xNN, so that it can travel in a protobuf string.
func EscapeInvalidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, "\\x%02x", s[i])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// CheckUTF8 returns an error naming the first invalid byte of a stored
// value and an escaped excerpt around it, or nil when value is UTF-8.
func CheckUTF8(value []byte) error {
	if utf8.Valid(value) {
		return nil
	}
	at := 0
	for at < len(value) {
		r, n := utf8.DecodeRune(value[at:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		at += n
	}
	from, to := max(0, at-24), min(len(value), at+24)
	return fmt.Errorf("the value is not valid UTF-8 (byte %d of %d): …%s…", at, len(value), strconv.Quote(string(value[from:to])))
}
