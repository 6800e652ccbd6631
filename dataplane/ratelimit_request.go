package dataplane

// Additions to the rate-limit descriptor scheme for what the service
// cannot otherwise see. Both are answered OK and never counted.
//
//	instance=<name> api_id=<id> env_id=<id> dim=request request_id=<x-request-id> method=<:method> path=<:path>
//	instance=<name> api_id=<id> env_id=<id> dim=debug
//
// RateLimitDimRequest carries the request's id, method and path so that a
// 429/405 body renders $context.requestId, reqMethod, reqPath and reqUri
// (Envoy actions: request_headers x-request-id, :method, :path). Any of the
// three entries may be absent.
//
// RateLimitDimDebug is present only when the request asks for debug output
// (header_value_match on RateLimitDebugHeader == RateLimitDebugValue,
// ignoring case); the service then returns the X-Apig-RateLimit-* headers
// (docs/apig-semantics.md#debug-headers).
const (
	RateLimitDimRequest = "request"
	RateLimitDimDebug   = "debug"

	RateLimitKeyRequestID = "request_id"
	RateLimitKeyMethod    = "method"
	RateLimitKeyPath      = "path"

	RateLimitDebugHeader = "x-apig-mode"
	RateLimitDebugValue  = "debug"
)

// Dynamic metadata the rate-limit service returns with OVER_LIMIT. Envoy
// stores it under RateLimitMetadataNamespace, where local_reply_config
// mappers can match it: Envoy always answers OVER_LIMIT with the filter's
// rate_limited_status (429), so the translator maps RateLimitMetaStatus (a
// number, e.g. 405 for APIG.0501 or a response set's custom status) to the
// final status code.
const (
	RateLimitMetadataNamespace = "envoy.filters.http.ratelimit"

	// RateLimitMetaErrorCode, RateLimitMetaErrorMessage and
	// RateLimitMetaErrorType are the keys ext_authz uses for its denials.
	RateLimitMetaErrorCode    = ExtAuthzMetaErrorCode
	RateLimitMetaErrorMessage = ExtAuthzMetaErrorMessage
	RateLimitMetaErrorType    = ExtAuthzMetaErrorType
	// RateLimitMetaStatus is the HTTP status the rendered gateway response
	// asks for.
	RateLimitMetaStatus = "status"
	// RateLimitMetaDim is the dimension whose limit was hit
	// (RateLimitDimAPI, ..., RateLimitDimAppQuota).
	RateLimitMetaDim = "dim"
)
