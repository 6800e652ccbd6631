package extauth

import (
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/apigw/apigw/extauth/sign"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

// Header names of APIG authentication (lower case, as Envoy sends them).
const (
	hdrAuthorization = "authorization"
	hdrAppCode       = "x-apig-appcode"
	hdrAuthToken     = "x-auth-token"
)

// authenticate runs the API's authentication and, when the API names a
// frontend authorizer, the custom authorizer after it (two-factor with APP
// or IAM, docs/apig-semantics.md#two-factor-authentication).
func (c *call) authenticate() *denial {
	var d *denial
	switch c.target.api.AuthType {
	case model.AuthApp:
		d = c.authApp()
	case model.AuthIAM:
		d = c.authIAM()
	case model.AuthAuthorizer:
		if c.target.api.AuthorizerId == "" {
			return &denial{reason: ReasonInternal, err: gwresp.ErrAuthorizerConf, cause: errors.New("AUTHORIZER API without authorizer_id")}
		}
	}
	if d != nil {
		return d
	}
	if c.target.api.AuthorizerId != "" && c.target.api.AuthType != model.AuthNone {
		return c.frontAuthorizer()
	}
	return nil
}

// authApp authenticates an app by AppCode (when the API enables it and
// the request carries one) or by SDK-HMAC-SHA256 signature, then checks
// that the app may call the API in this environment and from this IP.
func (c *call) authApp() *denial {
	if c.target.api.GetAuthOpt().GetAppCodeAuthType() == model.AppCodeHeader {
		if code, ok := c.req.hdr.get(hdrAppCode); ok && code != "" {
			if d := c.authAppCode(code); d != nil {
				return d
			}
			return c.authorizeApp()
		}
	}
	if d := c.verifySignature(); d != nil {
		return d
	}
	return c.authorizeApp()
}

// verifySignature authenticates the app by its SDK-HMAC-SHA256 signature
// (c.caller.app).
func (c *call) verifySignature() *denial {
	name := hdrAuthorization
	if h := c.target.inst.Config.GetCustomAuthHeader().GetAppAuthHeader(); h != "" {
		name = strings.ToLower(h)
	}
	v, ok := c.req.hdr.get(name)
	if !ok || v == "" {
		return deny(ReasonAuthMissing, gwresp.ErrAuthHeaderMissing)
	}
	a, err := sign.ParseAuthorization(v)
	if err != nil {
		return denyf(ReasonSignatureMalformed, gwresp.ErrAppAuth, "the authorization header is not an SDK-HMAC-SHA256 signature")
	}
	app := c.target.inst.AppByKey(a.Access)
	if app == nil {
		return denyf(ReasonUnknownApp, gwresp.ErrAppAuth, "app not found, appkey "+a.Access)
	}
	c.caller.app = app
	sr := sign.Request{Method: c.req.method, Host: c.req.host, Path: c.req.path, RawQuery: c.req.rawQuery, Header: &c.req.hdr, Body: c.req.body}
	if err := sign.Verify(&sr, a, app.AppSecret, c.now); err != nil {
		return signatureDenial(err)
	}
	return nil
}

func signatureDenial(err error) *denial {
	var exp *sign.ExpiredError
	var miss *sign.MissingHeaderError
	switch {
	case errors.As(err, &exp):
		return denyf(ReasonSignatureExpired, gwresp.ErrAppAuth, exp.Error())
	case errors.As(err, &miss):
		return denyf(ReasonSignatureMalformed, gwresp.ErrAppAuth, miss.Error())
	case errors.Is(err, sign.ErrMissingDate), errors.Is(err, sign.ErrBadDate), errors.Is(err, sign.ErrDateNotSigned):
		return denyf(ReasonSignatureMalformed, gwresp.ErrAppAuth, err.Error())
	case errors.Is(err, sign.ErrInvalidPath):
		return denyf(ReasonSignatureMalformed, gwresp.ErrAppAuth, err.Error())
	case errors.Is(err, sign.ErrPayloadMismatch):
		return denyf(ReasonBadSignature, gwresp.ErrAppAuth, err.Error())
	}
	return denyf(ReasonBadSignature, gwresp.ErrAppAuth, "verify signature fail")
}

// authAppCode finds the app owning an AppCode (HTTPS only,
// docs/apig-semantics.md#appcode).
func (c *call) authAppCode(code string) *denial {
	if !strings.EqualFold(c.req.scheme, "https") {
		return denyf(ReasonAppCodeInsecure, gwresp.ErrAppAuth, "AppCode authentication is only accepted over HTTPS")
	}
	app := c.target.inst.AppByCode(code)
	found := false
	if app != nil {
		for _, ac := range app.AppCodes {
			if constantTimeEqual(ac.AppCode, code) {
				found = true
			}
		}
	}
	if !found {
		return denyf(ReasonBadAppCode, gwresp.ErrAppAuth, "AppCode not found")
	}
	c.caller.app = app
	return nil
}

// authorizeApp checks the authenticated app: its credential quota can be
// read, not frozen, authorized for (API, environment), and called from an
// IP its ACL allows.
func (c *call) authorizeApp() *denial {
	if why := c.target.inst.AppBlocked(c.caller.app.Id); why != "" {
		return &denial{reason: ReasonPolicyUnavailable, err: gwresp.ErrPolicyUnavailable, cause: errors.New(why)}
	}
	if c.caller.app.Status == 2 {
		return deny(ReasonAppFrozen, gwresp.ErrAppFrozen)
	}
	if !c.target.plan.authorized[c.caller.app.Id] {
		return deny(ReasonAppNotAuthorized, gwresp.ErrAppNotAuthorized)
	}
	acl, err := loadOrCompile(&c.plans.apps, c.caller.app, func() (*appACL, error) { return compileAppACL(c.caller.app) })
	if err != nil {
		return &denial{reason: ReasonInternal, err: gwresp.ErrInternal, cause: err}
	}
	if acl == nil {
		return nil
	}
	ip, ok := c.clientIP()
	if !ok {
		return deny(ReasonUnknownClientIP, gwresp.ErrUnknownClientIP)
	}
	if in := acl.ips.Contains(ip); in != acl.permit {
		return deny(ReasonAppIPDenied, gwresp.ErrAppIPDenied)
	}
	return nil
}

// constantTimeEqual compares two secrets in time that depends only on
// their lengths.
func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return subtle.ConstantTimeByteEq(v, 0) == 1
}
