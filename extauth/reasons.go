package extauth

import (
	"github.com/apigw/apigw/model/gwresp"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Reason is the typed outcome of a check: a metric label and a log field.
type Reason string

// Reasons.
const (
	ReasonAllowed            Reason = "allowed"
	ReasonAPINotFound        Reason = "api_not_found"
	ReasonProtocol           Reason = "protocol_not_supported"
	ReasonUnknownClientIP    Reason = "unknown_client_ip"
	ReasonIPDenied           Reason = "ip_denied"
	ReasonAuthMissing        Reason = "auth_header_missing"
	ReasonSignatureMalformed Reason = "signature_malformed"
	ReasonUnknownApp         Reason = "unknown_app"
	ReasonSignatureExpired   Reason = "signature_expired"
	ReasonBadSignature       Reason = "bad_signature"
	ReasonAppCodeInsecure    Reason = "appcode_over_http"
	ReasonBadAppCode         Reason = "bad_appcode"
	ReasonAppNotAuthorized   Reason = "app_not_authorized"
	ReasonAppFrozen          Reason = "app_frozen"
	ReasonAppIPDenied        Reason = "app_ip_denied"
	ReasonIAMMissing         Reason = "iam_token_missing"
	ReasonIAMInvalid         Reason = "iam_token_invalid"
	ReasonIAMExpired         Reason = "iam_token_expired"
	ReasonIAMUnavailable     Reason = "iam_unavailable"
	ReasonAccountDenied      Reason = "account_denied"
	// ReasonJWTMissing, ReasonJWTInvalid, ReasonJWTExpired,
	// ReasonJWTUnavailable: a jwt_auth plug-in's token is missing, does
	// not verify, has expired, or its key set cannot be fetched.
	ReasonJWTMissing     Reason = "jwt_token_missing"
	ReasonJWTInvalid     Reason = "jwt_token_invalid"
	ReasonJWTExpired     Reason = "jwt_token_expired"
	ReasonJWTUnavailable Reason = "jwt_keys_unavailable"
	// ReasonThirdDenied, ReasonThirdIdentity, ReasonThirdBlocked,
	// ReasonThirdFailed: a third_auth plug-in's service refused, an
	// identity source is missing, the client IP is blocked after too many
	// failures, the service could not be called.
	ReasonThirdDenied      Reason = "third_auth_denied"
	ReasonThirdIdentity    Reason = "third_auth_identity"
	ReasonThirdBlocked     Reason = "third_auth_blocked"
	ReasonThirdFailed      Reason = "third_auth_failed"
	ReasonIdentityMissing  Reason = "authorizer_identity"
	ReasonAuthorizerDenied Reason = "authorizer_denied"
	ReasonAuthorizerFailed Reason = "authorizer_failed"
	ReasonBadParameter     Reason = "bad_parameter"
	// ReasonOrchestration: the orchestration rules found no input or no
	// matching rule.
	ReasonOrchestration Reason = "orchestration"
	ReasonBadRequest    Reason = "bad_request"
	ReasonInternal      Reason = "internal_error"
	// ReasonBackendSign: the backend request could not be signed.
	ReasonBackendSign Reason = "backend_sign_failed"
	// ReasonPolicyUnavailable: a policy the API or the app needs is
	// missing or cannot be read (model.Instance.Blocked); fails closed.
	ReasonPolicyUnavailable Reason = "policy_unavailable"
	// ReasonBreakerOpen: the API's breaker plug-in is open; the request
	// gets its downgrade (a mock answer or 503).
	ReasonBreakerOpen Reason = "breaker_open"
	// ReasonBreakerDowngrade and ReasonBreakerPassthrough are allowed
	// requests of an open breaker: sent to its http, http_vpc or func
	// downgrade, or passed to the API's backend by its passthrough one.
	ReasonBreakerDowngrade   Reason = "breaker_downgrade"
	ReasonBreakerPassthrough Reason = "breaker_passthrough"
)

// denyReasons lists every denial reason (for metrics).
func denyReasons() []Reason {
	return []Reason{
		ReasonAPINotFound, ReasonProtocol, ReasonUnknownClientIP, ReasonIPDenied, ReasonAuthMissing,
		ReasonSignatureMalformed, ReasonUnknownApp, ReasonSignatureExpired, ReasonBadSignature,
		ReasonAppCodeInsecure, ReasonBadAppCode, ReasonAppNotAuthorized, ReasonAppFrozen, ReasonAppIPDenied,
		ReasonIAMMissing, ReasonIAMInvalid, ReasonIAMExpired, ReasonIAMUnavailable, ReasonAccountDenied,
		ReasonIdentityMissing, ReasonAuthorizerDenied, ReasonAuthorizerFailed, ReasonBadParameter, ReasonBadRequest, ReasonInternal,
		ReasonPolicyUnavailable, ReasonOrchestration, ReasonBackendSign, ReasonBreakerOpen,
		ReasonJWTMissing, ReasonJWTInvalid, ReasonJWTExpired, ReasonJWTUnavailable,
		ReasonThirdDenied, ReasonThirdIdentity, ReasonThirdBlocked, ReasonThirdFailed,
	}
}

// denial is a failed check: the reason, the APIG error rendered for the
// client, and for logs an optional cause that never holds secrets.
type denial struct {
	reason Reason
	err    gwresp.Error
	cause  error
	// body and contentType, when body is set, replace the gateway
	// response's body (a third_auth service's answer).
	body, contentType string
	// mock, when set, is the answer instead of the gateway response (an
	// open breaker's mock downgrade); err still names the event in the
	// metadata and logs.
	mock *apigwv1.PluginBreakerMockInfo
}

func deny(r Reason, e gwresp.Error) *denial { return &denial{reason: r, err: e} }

// denyf adds a detail to the error's message, cut to gwresp.MaxEcho bytes:
// details may quote the client (an unknown app key), and a denial never
// echoes unbounded input.
func denyf(r Reason, e gwresp.Error, detail string) *denial {
	return &denial{reason: r, err: e.With(gwresp.Clip(detail, gwresp.MaxEcho))}
}
