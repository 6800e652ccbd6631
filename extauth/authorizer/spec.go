package authorizer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Spec is an authorizer definition prepared for calls: identity sources
// with compiled validation patterns, the timeout, the cache TTL and a
// fingerprint of the definition that prefixes its cache keys, so that
// changing an authorizer invalidates its cached decisions.
type Spec struct {
	// Def is the definition; never modify it.
	Def        *apigwv1.Authorizer
	identities []identity
	ttl        time.Duration
	timeout    time.Duration
	keyPrefix  string
	// url is where the authorizer is called; authorization, when set, is
	// sent as the Authorization header (a function authorizer's registry
	// credential).
	url, authorization string
}

type identity struct {
	name  string // as declared
	lname string // lower case, for headers
	query bool
	re    *regexp.Regexp
}

// Compile prepares an authorizer of an instance for calls at its
// authorizer_uri.
func Compile(instance string, a *apigwv1.Authorizer) (*Spec, error) {
	return CompileAt(instance, a, a.GetAuthorizerUri(), "")
}

// CompileAt is Compile for an authorizer called at url with an
// Authorization header (none when empty): a function authorizer, whose
// authorizer_uri is a function URN the instance's registry maps.
func CompileAt(instance string, a *apigwv1.Authorizer, url, authorization string) (*Spec, error) {
	s := &Spec{Def: a, url: url, authorization: authorization, ttl: time.Duration(a.GetTtl()) * time.Second, timeout: time.Duration(a.GetTimeout()) * time.Millisecond}
	if s.timeout <= 0 {
		s.timeout = model.DefaultAuthorizerTimeout * time.Millisecond
	}
	for _, id := range a.GetIdentities() {
		it := identity{name: id.Name, lname: strings.ToLower(id.Name), query: strings.EqualFold(id.Location, model.LocQuery)}
		if id.Validation != "" {
			re, err := regexp.Compile(id.Validation)
			if err != nil {
				return nil, fmt.Errorf("authorizer %s: identity %s: validation: %w", a.GetId(), id.Name, err)
			}
			it.re = re
		}
		s.identities = append(s.identities, it)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(withoutMeta(a))
	if err != nil {
		return nil, fmt.Errorf("authorizer %s: %w", a.GetId(), err)
	}
	sum := sha256.Sum256(append([]byte(instance+"\x00"+url+"\x00"+authorization+"\x00"), b...))
	s.keyPrefix = hex.EncodeToString(sum[:12])
	return s, nil
}

func withoutMeta(a *apigwv1.Authorizer) *apigwv1.Authorizer {
	if a.GetMeta() == nil {
		return a
	}
	c := proto.Clone(a).(*apigwv1.Authorizer)
	c.Meta = nil
	return c
}

// TTL is the cache lifetime of the authorizer's decisions (0: no cache).
func (s *Spec) TTL() time.Duration { return s.ttl }

// Source gives a request's identity-source values.
type Source interface {
	// Header returns a request header by lower-case name.
	Header(name string) (string, bool)
	// Query returns the first value of a decoded query parameter.
	Query(name string) (string, bool)
}

// IdentityError says that an identity source is missing or fails its
// validation pattern (AUTHORIZER_IDENTITIES_FAILURE).
type IdentityError struct {
	Name     string
	Location string
	Invalid  bool
}

func (e *IdentityError) Error() string {
	if e.Invalid {
		return "identity source " + e.Name + " (" + e.Location + ") is invalid"
	}
	return "identity source " + e.Name + " (" + e.Location + ") is missing"
}

// cacheKey checks the identity sources and returns the cache key ("" when
// the decision must not be cached).
func (s *Spec) cacheKey(src Source) (string, error) {
	var b strings.Builder
	cache := s.ttl > 0 && len(s.identities) > 0
	if cache {
		n := len(s.keyPrefix)
		for range s.identities {
			n += 32
		}
		b.Grow(n)
		b.WriteString(s.keyPrefix)
	}
	for _, id := range s.identities {
		var v string
		var ok bool
		loc := model.LocHeader
		if id.query {
			v, ok = src.Query(id.name)
			loc = model.LocQuery
		} else {
			v, ok = src.Header(id.lname)
		}
		if !ok || v == "" {
			return "", &IdentityError{Name: id.name, Location: loc}
		}
		if id.re != nil && !id.re.MatchString(v) {
			return "", &IdentityError{Name: id.name, Location: loc, Invalid: true}
		}
		if cache {
			b.WriteByte(0)
			b.WriteString(v)
		}
	}
	return b.String(), nil
}
