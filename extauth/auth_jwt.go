package extauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apigw/apigw/extauth/iam"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

// jwtPlan is the jwt_auth plug-in bound to (API, environment)
// (docs/plugins.md#jwt_auth).
type jwtPlan struct {
	cfg         iam.Config
	loc, name   string // token location and name (lower case for headers)
	prefix      string // removed from a header value ("" for none)
	passThrough bool
	claims      []claimHeader
}

type claimHeader struct{ claim, header string }

// compileJWT returns the plan of the jwt_auth plug-in bound to (API,
// environment), nil when there is none.
func compileJWT(in *model.Instance, apiID, envID string) (*jwtPlan, error) {
	p := in.PluginOf(apiID, envID, model.PluginJWTAuth)
	if p == nil {
		return nil, nil
	}
	v := model.JWTAuthContentOf(p)
	if v == nil {
		return nil, fmt.Errorf("jwt_auth plug-in %s: its content does not decode", p.PluginName)
	}
	jp := &jwtPlan{passThrough: v.TokenPassThroughEnabled,
		cfg: iam.Config{Issuer: v.Issuer, Audiences: v.Audiences, Leeway: time.Duration(model.JWTTolerance(v)) * time.Second}}
	// As in APIG, the key service wins over the inline set.
	if u := v.GetJwksService().GetUrl(); u != "" {
		jp.cfg.JwksURI = u
	} else {
		jp.cfg.Jwks = v.Jwks
	}
	jp.loc, jp.name, jp.prefix = model.JWTTokenSource(v)
	for _, ch := range v.GetCarryPayload().GetClaims() {
		jp.claims = append(jp.claims, claimHeader{claim: ch.Claim, header: strings.ToLower(ch.Header)})
	}
	return jp, nil
}

// authJWT verifies the token a jwt_auth plug-in asks for, forwards the
// claims it names as headers and, unless the plug-in passes it through,
// removes the token from the backend request.
func (c *call) authJWT() *denial {
	jp := c.target.plan.jwt
	if jp == nil {
		return nil
	}
	tok, ok := c.jwtToken(jp)
	if !ok {
		return denyf(ReasonJWTMissing, gwresp.ErrJWTAuth, "the token is missing")
	}
	claims, err := c.s.iam.VerifyJWT(c.ctx, jp.cfg, tok)
	switch {
	case err == nil:
	case errors.Is(err, iam.ErrUnavailable), errors.Is(err, iam.ErrNotConfigured):
		return &denial{reason: ReasonJWTUnavailable, err: gwresp.ErrJWTKeysUnavailable, cause: err}
	case errors.Is(err, iam.ErrExpired):
		return denyf(ReasonJWTExpired, gwresp.ErrJWTAuth, "token is expired")
	default:
		return denyf(ReasonJWTInvalid, gwresp.ErrJWTAuth, strings.TrimPrefix(err.Error(), iam.ErrInvalid.Error()+": "))
	}
	for _, ch := range jp.claims {
		if v, ok := claimValue(claims, ch.claim); ok && validHeaderValue(v) {
			c.mut.setHeader(ch.header, v)
		} else {
			// A client-sent header of that name never reaches the backend
			// as if it were a claim.
			c.mut.removeHeader(ch.header)
		}
	}
	if !jp.passThrough {
		c.dropJWT(jp)
	}
	return nil
}

// jwtToken reads the token from where the plug-in says.
func (c *call) jwtToken(jp *jwtPlan) (string, bool) {
	var v string
	var ok bool
	switch jp.loc {
	case model.TokenInQuery:
		v, ok = c.req.queryValue(jp.name)
	case model.TokenInCookie:
		v, ok = c.req.cookie(jp.name)
	default:
		v, ok = c.req.hdr.get(jp.name)
		if ok && jp.prefix != "" {
			// The prefix is a scheme ("Bearer"): compared case-insensitively
			// and followed by at least one space.
			if len(v) <= len(jp.prefix) || !strings.EqualFold(v[:len(jp.prefix)], jp.prefix) || (v[len(jp.prefix)] != ' ' && !strings.HasSuffix(jp.prefix, " ")) {
				return "", false
			}
			v = v[len(jp.prefix):]
		}
	}
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// dropJWT removes the token from the backend request.
func (c *call) dropJWT(jp *jwtPlan) {
	switch jp.loc {
	case model.TokenInQuery:
		c.mut.removeQueryParam(jp.name)
	case model.TokenInCookie:
		line, _ := c.req.hdr.get("cookie")
		var keep []string
		for part := range strings.SplitSeq(line, ";") {
			k, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k != jp.name && strings.TrimSpace(part) != "" {
				keep = append(keep, strings.TrimSpace(part))
			}
		}
		if len(keep) == 0 {
			c.mut.removeHeader("cookie")
		} else {
			c.mut.setHeader("cookie", strings.Join(keep, "; "))
		}
	default:
		c.mut.removeHeader(jp.name)
	}
}

// claimValue reads a claim by a dotted path: strings as they are,
// numbers and booleans as text, arrays and objects as JSON.
func claimValue(claims map[string]any, path string) (string, bool) {
	var cur any = claims
	if v, ok := claims[path]; ok {
		cur = v
	} else {
		for part := range strings.SplitSeq(path, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				return "", false
			}
			if cur, ok = m[part]; !ok {
				return "", false
			}
		}
	}
	switch v := cur.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	case json.Number:
		return v.String(), true
	}
	b, err := json.Marshal(cur)
	if err != nil {
		return "", false
	}
	return string(b), true
}
