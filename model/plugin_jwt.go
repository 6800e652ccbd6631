package model

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/apigw/apigw/model/jwk"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// PluginJWTAuth is the jwt_auth plug-in type (docs/plugins.md#jwt_auth).
const PluginJWTAuth = "jwt_auth"

// Token locations of a jwt_auth plug-in.
const (
	TokenInHeader = "header"
	TokenInQuery  = "query"
	TokenInCookie = "cookie"
)

// jwt_auth defaults and bounds.
const (
	JWTDefaultHeader    = "Authorization"
	JWTDefaultQuery     = "access_token"
	JWTDefaultPrefix    = "Bearer"
	JWTMaxTolerance     = 86400 // seconds
	JWTMaxJWKS          = 50 * 1024
	JWTMaxCarriedClaims = 10
)

var reClaimHeader = runeRange(`^[A-Za-z][A-Za-z0-9\-]*$`, 1, 64)

// JWTAuthContentOf returns the content of a jwt_auth plug-in (nil if it
// does not decode).
func JWTAuthContentOf(p *apigwv1.Plugin) *apigwv1.JwtAuthContent {
	m, _ := PluginContent(p)
	c, _ := m.(*apigwv1.JwtAuthContent)
	return c
}

// JWTTokenSource returns where a jwt_auth plug-in reads the token: the
// location, the name (lower case for headers) and the prefix removed from
// a header value ("" for none).
func JWTTokenSource(v *apigwv1.JwtAuthContent) (loc, name, prefix string) {
	loc = strings.ToLower(v.GetTokenLocation())
	if loc == "" {
		loc = TokenInHeader
	}
	name = v.GetTokenName()
	switch loc {
	case TokenInHeader:
		if name == "" {
			name = JWTDefaultHeader
		}
		name = strings.ToLower(name)
		prefix = JWTDefaultPrefix
		if v.TokenPrefix != nil {
			prefix = v.GetTokenPrefix()
		}
	case TokenInQuery:
		if name == "" {
			name = JWTDefaultQuery
		}
	}
	return loc, name, prefix
}

// JWTTolerance returns the clock skew (seconds) of a jwt_auth plug-in.
func JWTTolerance(v *apigwv1.JwtAuthContent) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(v.GetTokenExpirationTolerance()), 10, 64)
	return n
}

func validateJWTAuth(c checker, v *apigwv1.JwtAuthContent) {
	u := v.GetJwksService().GetUrl()
	switch {
	case v.JwksService != nil && u == "":
		c.add("jwks_service.url", "is required")
	case u != "":
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.User != nil || HasControl(u) {
			c.add("jwks_service.url", "must be an http(s) URL without credentials")
		}
		c.maxLen("jwks_service.url", u, 1024)
	case v.Jwks == "":
		c.add("jwks", "jwks or jwks_service is required")
	}
	if v.Jwks != "" {
		if len(v.Jwks) > JWTMaxJWKS {
			c.add("jwks", "must be at most 50 KB (got %d bytes)", len(v.Jwks))
		} else if _, err := jwk.ParseSet([]byte(v.Jwks)); err != nil {
			c.add("jwks", "is not a usable JWK set: %v", err)
		}
	}
	loc := strings.ToLower(v.TokenLocation)
	if loc != "" {
		c.oneOf("token_location", loc, TokenInHeader, TokenInQuery, TokenInCookie)
	}
	if v.TokenName != "" {
		switch {
		case (loc == "" || loc == TokenInHeader) && !ValidHeaderName(v.TokenName):
			c.add("token_name", "%q is not a header name", v.TokenName)
		case HasControl(v.TokenName) || strings.ContainsAny(v.TokenName, " ;,=&#"):
			c.add("token_name", "%q is not a %s name", v.TokenName, loc)
		}
		c.maxLen("token_name", v.TokenName, 128)
	} else if loc == TokenInCookie {
		c.add("token_name", "is required with token_location cookie")
	}
	if v.TokenPrefix != nil && loc != "" && loc != TokenInHeader {
		c.add("token_prefix", "can only be set with token_location header")
	}
	if v.TokenPrefix != nil {
		c.maxLen("token_prefix", v.GetTokenPrefix(), 64)
		checkWire(c, "token_prefix", v.GetTokenPrefix())
	}
	if t := strings.TrimSpace(v.TokenExpirationTolerance); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n < 0 || n > JWTMaxTolerance {
			c.add("token_expiration_tolerance", "must be a number of seconds between 0 and %d (got %q)", JWTMaxTolerance, v.TokenExpirationTolerance)
		}
	}
	if v.Issuer != "" {
		c.maxLen("issuer", v.Issuer, 1024)
		checkWire(c, "issuer", v.Issuer)
	}
	for i, a := range v.Audiences {
		if a == "" {
			c.add(index("audiences", i), "must not be empty")
		}
		c.maxLen(index("audiences", i), a, 1024)
	}
	claims := v.GetCarryPayload().GetClaims()
	if len(claims) > JWTMaxCarriedClaims {
		c.add("carry_payload.claims", "at most %d claims (got %d)", JWTMaxCarriedClaims, len(claims))
	}
	_, tokName, _ := JWTTokenSource(v)
	seen := map[string]bool{}
	for i, ch := range claims {
		cc := c.at("carry_payload").idx("claims", i)
		if cc.required("claim", ch.Claim) {
			cc.maxLen("claim", ch.Claim, 128)
			checkWire(cc, "claim", ch.Claim)
		}
		if !cc.required("header", ch.Header) {
			continue
		}
		h := strings.ToLower(ch.Header)
		switch {
		case !reClaimHeader.MatchString(ch.Header):
			cc.add("header", "must be 1-64 letters, digits or -, starting with a letter")
		case strings.HasPrefix(h, "x-apig-") || h == "x-request-id" || h == "host" || h == "authorization" || h == "cookie" || h == "content-length":
			cc.add("header", "%s is set by the gateway or the client and cannot carry a claim", ch.Header)
		case (loc == "" || loc == TokenInHeader) && h == tokName:
			cc.add("header", "%s carries the token", ch.Header)
		}
		if seen[h] {
			cc.add("header", "%q is listed twice (names are case-insensitive)", ch.Header)
		}
		seen[h] = true
	}
}
