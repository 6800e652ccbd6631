package dataplane

// Keys of ExtAuthzPerRoute.check_settings.context_extensions set on every
// API route. ext_authz resolves the request's API from them.
const (
	ExtAuthzCtxInstance    = "apigw_instance"
	ExtAuthzCtxGroup       = "apigw_group"
	ExtAuthzCtxAPI         = "apigw_api"
	ExtAuthzCtxEnv         = "apigw_env"
	ExtAuthzCtxPublication = "apigw_publication"
	// ExtAuthzCtxPolicy names the policy backend a route serves ("" =
	// default).
	ExtAuthzCtxPolicy = "apigw_policy"
)

// ExtAuthzMetadataNamespace is where Envoy puts ext_authz's dynamic
// metadata; the rate-limit actions and the local-reply formatters read it
// from there.
const ExtAuthzMetadataNamespace = "envoy.filters.http.ext_authz"

// Keys of the dynamic metadata ext_authz returns.
const (
	// ExtAuthzMetaAppID is the id of the authenticated app (APP auth,
	// AppCode).
	ExtAuthzMetaAppID = "app_id"
	// ExtAuthzMetaAccountID is the caller's account (IAM, or the app's
	// owner).
	ExtAuthzMetaAccountID = "account_id"
	// ExtAuthzMetaClientIP is the real client IP per the instance's real-IP
	// settings.
	ExtAuthzMetaClientIP = "client_ip"
	// ExtAuthzMetaBackendPath is the backend path computed by ext_authz,
	// used by the route's path_rewrite.
	//
	// Routes use it only when Envoy cannot compute the backend path itself
	// (see docs/xds.md, "Contract with ext_authz"). Envoy's path_rewrite
	// replaces the path and keeps the request's query string, so the value
	// is the percent-encoded path alone; query parameters are changed with
	// the CheckResponse's query_parameters_to_set and _to_remove.
	ExtAuthzMetaBackendPath = "backend_path"
	// ExtAuthzMetaAPIID and ExtAuthzMetaEnvID name the API and environment
	// the request was checked against (also on denials of a known API).
	ExtAuthzMetaAPIID = "api_id"
	ExtAuthzMetaEnvID = "env_id"
	// ExtAuthzMetaRateLimitRule is the name of the first rule of the
	// rate_limit plug-in bound to the API whose expression matches the
	// request (absent when none does); the route's rule descriptor reads
	// it.
	ExtAuthzMetaRateLimitRule = "rate_limit_rule"
	// ExtAuthzMetaAccountName is the caller's account name (IAM), for logs.
	ExtAuthzMetaAccountName = "account_name"
	// ExtAuthzMetaFrontendContext and ExtAuthzMetaBackendContext hold
	// the context (string fields) the API's frontend and backend custom
	// authorizers returned, for the kafka_log plug-ins' custom_authorizer
	// fields; absent when empty.
	ExtAuthzMetaFrontendContext = "authorizer_frontend"
	ExtAuthzMetaBackendContext  = "authorizer_backend"
	// ExtAuthzMetaPolicy is the name of the policy backend selected (""
	// for the default backend); ExtAuthzPolicyHeader carries the same
	// value.
	ExtAuthzMetaPolicy = "policy"
	// ExtAuthzMetaBreakerRule is the downgrade rule of the API's breaker
	// plug-in the request matched (absent: the default breaker); the
	// access-log service counts the call for that rule's breaker.
	ExtAuthzMetaBreakerRule = "breaker_rule"
	// ExtAuthzMetaBreakerDowngraded (true) marks a request sent to an
	// open breaker's http, http_vpc or func downgrade, or passed to the
	// API's backend by a passthrough one: its result does not feed the
	// breaker.
	ExtAuthzMetaBreakerDowngraded = "breaker_downgraded"
	// ExtAuthzMetaErrorCode, ExtAuthzMetaErrorMessage and
	// ExtAuthzMetaErrorType describe a denial (APIG.xxxx, message,
	// gateway-response type).
	ExtAuthzMetaErrorCode    = "error_code"
	ExtAuthzMetaErrorMessage = "error_message"
	ExtAuthzMetaErrorType    = "error_type"
)

// ExtAuthzPolicyHeader carries the name of the policy backend ext_authz
// selected; routes of policy backends match on it after ext_authz clears
// the route cache. ext_authz always sets or removes it, so clients cannot
// force it.
const ExtAuthzPolicyHeader = "x-apigw-policy"

// ExtAuthzMethodHeader marks a request whose method ext_authz changed to
// the backend's (req_method of an HTTP backend that differs from the
// frontend's): ext_authz sets :method and this header, whose value is
// ExtAuthzMethodRoute of the selected backend. When Envoy matches the
// route again after the check, only the route variant of that backend
// matches it (those variants come first in the virtual host), so no other
// API's route with the backend's method can take the request. A request
// that arrives with the header is refused by ext_authz; the virtual host
// removes it before the backend.
const ExtAuthzMethodHeader = "x-apigw-backend-method"

// ExtAuthzAppRouteHeader carries the id of the API ext_authz chose for a
// request to a gateway address that matched no API of the DEFAULT group
// (app_route): the gateway-address virtual host holds a copy of that
// API's routes guarded by this header, which Envoy matches after ext_authz
// clears the route cache. Only ext_authz sets it: a request that arrives
// with it is refused, and the virtual host removes it before the backend.
const ExtAuthzAppRouteHeader = "x-apigw-app-route"

// ExtAuthzCtxAppRoute (value "1") marks the gateway addresses' catch-all
// route of app_route: ext_authz chooses the API from the calling app's
// authorizations and the request's method and path.
const ExtAuthzCtxAppRoute = "apigw_app_route"

// ExtAuthzMethodRoute is the value of ExtAuthzMethodHeader for a backend:
// the API id, the environment id and the policy backend's name ("" for
// the default backend).
func ExtAuthzMethodRoute(apiID, envID, policy string) string {
	return apiID + "/" + envID + "/" + policy
}
