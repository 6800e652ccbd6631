package model

import (
	"regexp"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Backend signature key types (docs/apig-semantics.md#backend-signature-keys).
const (
	SignHMAC      = "hmac"
	SignBasic     = "basic"
	SignAES       = "aes"
	SignPublicKey = "public_key"
)

var (
	reSignHMACKey    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_\-]{7,31}$`)
	reSignHMACSecret = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_\-!@#$%]{15,63}$`)
	reSignBasicUser  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_\-]{3,31}$`)
	reSignBasicPass  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_\-!@#$%]{7,63}$`)
)

func validateSignatureKey(c checker, s *apigwv1.SignatureKey) {
	if c.required("name", s.Name) && !rePolicyName.MatchString(s.Name) {
		c.add("name", "must be %s", patPolicyName)
	}
	c.maxLen("remark", s.Remark, 255)
	switch s.SignType {
	case "":
		c.add("sign_type", "is required")
	case SignHMAC:
		if c.required("sign_key", s.SignKey) && !reSignHMACKey.MatchString(s.SignKey) {
			c.add("sign_key", "must be 8-32 of [A-Za-z0-9_-], starting alphanumeric")
		}
		if c.required("sign_secret", s.SignSecret) && !reSignHMACSecret.MatchString(s.SignSecret) {
			c.add("sign_secret", "must be 16-64 of [A-Za-z0-9_-!@#$%%], starting alphanumeric")
		}
	case SignBasic:
		if c.required("sign_key", s.SignKey) && !reSignBasicUser.MatchString(s.SignKey) {
			c.add("sign_key", "must be 4-32 of [A-Za-z0-9_-], starting with a letter")
		}
		if c.required("sign_secret", s.SignSecret) && !reSignBasicPass.MatchString(s.SignSecret) {
			c.add("sign_secret", "must be 8-64 of [A-Za-z0-9_-!@#$%%], starting alphanumeric")
		}
	case SignAES, SignPublicKey:
		c.add("sign_type", "%s is not supported: APIG does not document the token it sends to the backend, so apigw cannot produce what a backend verifies (docs/apig-semantics.md#backend-signature-keys)", s.SignType)
	default:
		c.add("sign_type", "must be one of hmac, basic (got %q)", s.SignType)
	}
	if s.SignAlgorithm != "" && s.SignType != SignAES {
		c.add("sign_algorithm", "is only for sign_type aes")
	}
}

// SignatureFor returns the signature key bound to (API, environment), nil
// when none is (or when the bound key cannot be read: the API is then held
// closed, see relHold).
func (in *Instance) SignatureFor(apiID, envID string) *apigwv1.SignatureKey {
	for _, b := range bindings[*apigwv1.SignatureBinding](in, KindSignBinding, apiID, envID) {
		if s := get[*apigwv1.SignatureKey](in, KindSignature, b.SignId); s != nil {
			return s
		}
	}
	return nil
}
