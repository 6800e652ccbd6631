// Package dataplane defines the contracts between the xDS translator and the
// request-time services (ext_authz, rate limit): the route
// context_extensions, the dynamic metadata ext_authz emits, and the header
// that selects a policy backend. Both sides use these names and nothing
// else.
package dataplane

// Keys of ExtAuthzPerRoute.check_settings.context_extensions set on every
// API route. ext_authz resolves the request's API from them.
const (
	CtxInstance    = "apigw_instance"
	CtxGroup       = "apigw_group"
	CtxAPI         = "apigw_api"
	CtxEnv         = "apigw_env"
	CtxPublication = "apigw_publication"
	// CtxPolicy names the policy backend a route serves ("" = default).
	CtxPolicy = "apigw_policy"
)

// MetadataNamespace is where Envoy puts ext_authz's dynamic metadata; the
// rate-limit actions and the local-reply formatters read it from there.
const MetadataNamespace = "envoy.filters.http.ext_authz"

// Keys of the dynamic metadata ext_authz returns.
const (
	// MetaAppID is the id of the authenticated app (APP auth, AppCode).
	MetaAppID = "app_id"
	// MetaAccountID is the caller's account (IAM, or the app's owner).
	MetaAccountID = "account_id"
	// MetaClientIP is the real client IP per the instance's real-IP
	// settings.
	MetaClientIP = "client_ip"
	// MetaBackendPath is the backend path computed by ext_authz, used by
	// the route's path_rewrite.
	//
	// Routes use it only when Envoy cannot compute the backend path itself
	// (see docs/xds.md, "Contract with ext_authz"). Envoy's path_rewrite
	// replaces the path and keeps the request's query string, so the value
	// is the percent-encoded path alone; query parameters are changed with
	// the CheckResponse's query_parameters_to_set and _to_remove.
	MetaBackendPath = "backend_path"
	// MetaAPIID and MetaEnvID name the API and environment the request
	// was checked against (also on denials of a known API).
	MetaAPIID = "api_id"
	MetaEnvID = "env_id"
	// MetaAccountName is the caller's account name (IAM), for logs.
	MetaAccountName = "account_name"
	// MetaPolicy is the name of the policy backend selected ("" for the
	// default backend); PolicyHeader carries the same value.
	MetaPolicy = "policy"
	// MetaErrorCode, MetaErrorMessage and MetaErrorType describe a denial
	// (APIG.xxxx, message, gateway-response type).
	MetaErrorCode    = "error_code"
	MetaErrorMessage = "error_message"
	MetaErrorType    = "error_type"
)

// PolicyHeader carries the name of the policy backend ext_authz selected;
// routes of policy backends match on it after ext_authz clears the route
// cache. ext_authz always sets or removes it, so clients cannot force it.
const PolicyHeader = "x-apigw-policy"

// StageHeader selects a non-RELEASE environment
// (docs/apig-semantics.md#environments).
const StageHeader = "x-stage"

// Ports reserved for the components.
const (
	PortXDS       = 18000
	PortExtAuth   = 18001
	PortRateLimit = 18002
	PortAdmin     = 18003
	PortOps       = 18004
)
