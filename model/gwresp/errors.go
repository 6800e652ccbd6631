// Package gwresp holds APIG's data-plane error catalog
// (docs/apig-semantics.md#error-catalog) and renders gateway responses
// (docs/apig-semantics.md#gateway-responses) from a group's response sets.
// ext_authz and the rate-limit service render denials with it; the xDS
// translator uses the same templates for Envoy's local replies.
package gwresp

// Error is one APIG data-plane error: code, message, gateway-response type
// and HTTP status.
type Error struct {
	Code    string
	Message string
	Type    string
	Status  int32
}

// With returns the error with detail appended to its message
// ("Incorrect app authentication information: app not found, appkey x").
func (e Error) With(detail string) Error {
	if detail != "" {
		e.Message = trimDot(e.Message) + ": " + detail
	}
	return e
}

func trimDot(s string) string {
	if len(s) > 0 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

// The catalog.
var (
	ErrAPINotFound    = Error{"APIG.0101", "The API does not exist or has not been published in the environment.", "NOT_FOUND", 404}
	ErrMethodNotFound = Error{"APIG.0101", "The API does not exist.", "NOT_FOUND", 404}
	ErrOrchestration  = Error{"APIG.0106", "Orchestration error.", "REQUEST_PARAMETERS_FAILURE", 400}
	// The orchestration rules' errors: no input parameter (and no
	// none_value rule), no matching rule (and no default rule).
	ErrOrchestrationNotFound = Error{"APIG.0106", "Orchestration error: the orchestrated parameter is missing.", "ORCHESTRATION_PARAMETER_NOT_FOUND", 400}
	ErrOrchestrationFailure  = Error{"APIG.0106", "Orchestration error: no orchestration rule matched.", "ORCHESTRATION_FAILURE", 400}
	ErrBadRequest            = Error{"APIG.0201", "API request error.", "REQUEST_PARAMETERS_FAILURE", 400}
	ErrEntityTooLarge        = Error{"APIG.0201", "Request entity too large.", "DEFAULT_4XX", 413}
	ErrURITooLarge           = Error{"APIG.0201", "Request URI too large.", "DEFAULT_4XX", 414}
	ErrHeadersTooLarge       = Error{"APIG.0201", "Request headers too large.", "DEFAULT_4XX", 494}
	ErrBackendUnavailable    = Error{"APIG.0202", "Backend unavailable.", "BACKEND_UNAVAILABLE", 502}
	ErrBackendTimeout        = Error{"APIG.0203", "Backend timeout.", "BACKEND_TIMEOUT", 504}
	ErrIAMAuth               = Error{"APIG.0301", "Incorrect IAM authentication information.", "AUTH_FAILURE", 401}
	ErrIAMForbidden          = Error{"APIG.0302", "The IAM user is not authorized to access the API.", "ACCESS_DENIED", 403}
	ErrAppAuth               = Error{"APIG.0303", "Incorrect app authentication information.", "AUTH_FAILURE", 401}
	ErrAppNotAuthorized      = Error{"APIG.0304", "The app is not authorized to access the API.", "UNAUTHORIZED", 403}
	ErrAuth                  = Error{"APIG.0305", "Incorrect authentication information.", "AUTH_FAILURE", 401}
	ErrAccessDenied          = Error{"APIG.0306", "API access denied.", "ACCESS_DENIED", 403}
	ErrTokenExpired          = Error{"APIG.0307", "The token must be updated.", "AUTH_FAILURE", 401}
	ErrThrottled             = Error{"APIG.0308", "The throttling threshold has been reached.", "THROTTLED", 429}
	ErrUnknownClientIP       = Error{"APIG.0401", "Unknown client IP address.", "ACCESS_DENIED", 403}
	ErrIPDenied              = Error{"APIG.0402", "The IP address is not authorized to access the API.", "ACCESS_DENIED", 403}
	ErrAppIPDenied           = Error{"APIG.0405", "The app is not accessed from a trusted IP address.", "ACCESS_DENIED", 403}
	ErrAppQuota              = Error{"APIG.0501", "The app quota has been used up.", "DEFAULT_4XX", 405}
	ErrAppFrozen             = Error{"APIG.0502", "The app has been frozen.", "DEFAULT_4XX", 405}
	ErrInternal              = Error{"APIG.0601", "Internal server error.", "DEFAULT_5XX", 500}
	ErrProtocol              = Error{"APIG.0607", "The following protocol is supported: {xxx}", "DEFAULT_4XX", 400}
	ErrNoBackend             = Error{"APIG.0610", "No backend available.", "BACKEND_UNAVAILABLE", 502}
	ErrIAMUnavailable        = Error{"APIG.0613", "The IAM service is currently unavailable.", "DEFAULT_5XX", 503}
	ErrBackendSign           = Error{"APIG.0705", "Backend signature calculation failed.", "DEFAULT_5XX", 500}

	// Authentication errors with their gateway-response types.
	ErrAuthHeaderMissing = Error{"APIG.0303", "Incorrect app authentication information: the authentication header is missing.", "AUTH_HEADER_MISSING", 401}
	ErrIAMTokenMissing   = Error{"APIG.0301", "Incorrect IAM authentication information: the X-Auth-Token header is missing.", "AUTH_HEADER_MISSING", 401}
	ErrAuthorizerDenied  = Error{"APIG.0305", "Incorrect authentication information: the custom authorizer denied the request.", "AUTHORIZER_FAILURE", 500}
	ErrAuthorizerConf    = Error{"APIG.0305", "Incorrect authentication information: the custom authorizer failed.", "AUTHORIZER_CONF_FAILURE", 500}
	ErrAuthorizerIdent   = Error{"APIG.0305", "Incorrect authentication information: identity source missing or invalid.", "AUTHORIZER_IDENTITIES_FAILURE", 401}
	// ErrJWTAuth: a jwt_auth plug-in refused the request's token (missing,
	// malformed, badly signed, expired, wrong issuer or audience).
	ErrJWTAuth = Error{"APIG.0305", "Incorrect authentication information: JWT verification failed.", "JWT_AUTH_FAILURE", 401}
	// ErrJWTKeysUnavailable: the key set of a jwt_auth plug-in cannot be
	// fetched (and none is cached); the request is refused.
	ErrJWTKeysUnavailable = Error{"APIG.0601", "Internal server error: the JWT key set cannot be fetched.", "DEFAULT_5XX", 500}
	// Third-party authentication (third_auth plug-ins): the service
	// refused, an identity source is missing, the client IP is blocked
	// after too many failures, the service cannot be called or answered
	// unreadably.
	ErrThirdAuth           = Error{"APIG.0312", "Incorrect third-party authentication information,auth fail", "THIRD_AUTH_FAILURE", 401}
	ErrThirdAuthIdentities = Error{"APIG.0313", "Incorrect third-party authentication information,identities error", "THIRD_AUTH_IDENTITIES_FAILURE", 401}
	ErrThirdAuthBlocked    = Error{"APIG.0314", "Incorrect third-party authentication information,access deny", "THIRD_AUTH_FAILURE", 403}
	ErrThirdAuthRequest    = Error{"APIG.0616", "Incorrect third-party authentication request information.", "THIRD_AUTH_CONF_FAILURE", 500}
	ErrThirdAuthResponse   = Error{"APIG.0617", "Incorrect third-party authentication response information.", "THIRD_AUTH_CONF_FAILURE", 500}
	ErrParameters          = Error{"APIG.0106", "Orchestration error.", "REQUEST_PARAMETERS_FAILURE", 400}
)

// ErrBreakerOpen answers a request of an API whose breaker plug-in is open
// and has no downgrade (docs/plugins.md#breaker): 503, rendered with the
// group's DEFAULT_5XX response.
var ErrBreakerOpen = Error{"APIG.0202", "Backend unavailable: the circuit breaker is open.", "DEFAULT_5XX", 503}

// ErrPolicyUnavailable answers an API that cannot be served with every
// restriction configured for it, and calls with an app whose credential
// quota cannot be read (model.Instance.Blocked, AppBlocked).
var ErrPolicyUnavailable = Error{"APIG.0601", "Internal server error: a policy of the API cannot be read.", "DEFAULT_5XX", 500}
