package dataplane

// The access-log contract: what the translator puts on routes and in the
// HCM's gRPC access logger, and what the access-log service reads back from
// Envoy's StreamAccessLogs messages.

// AccessLogName is the log_name of the HCM's http_grpc access logger; the
// access-log service ignores streams of other loggers.
const AccessLogName = "apigw.http"

// AccessLogRouteNamespace is the route metadata namespace (filter_metadata
// key) naming what an API route serves.
const AccessLogRouteNamespace = "apigw"

// Keys of the route metadata under AccessLogRouteNamespace.
const (
	AccessLogRouteInstance = "instance"
	AccessLogRouteGroup    = "group_id"
	AccessLogRouteAPI      = "api_id"
	AccessLogRouteAPIName  = "api_name"
	AccessLogRouteEnv      = "env_id"
	// AccessLogRouteErrorCode is set on routes that answer every request
	// with an APIG error themselves (an API that cannot be served safely).
	AccessLogRouteErrorCode = "error_code"
)

// Custom tags of the http_grpc access logger. Each copies the route
// metadata key of the same suffix into AccessLogCommon.custom_tags, so that
// an entry names its API even when ext_authz did not run.
const (
	AccessLogTagInstance  = "apigw.instance"
	AccessLogTagGroup     = "apigw.group_id"
	AccessLogTagAPI       = "apigw.api_id"
	AccessLogTagAPIName   = "apigw.api_name"
	AccessLogTagEnv       = "apigw.env_id"
	AccessLogTagErrorCode = "apigw.error_code"
)

// AccessLogRouteTags lists each access-log custom tag with the route
// metadata key it copies.
func AccessLogRouteTags() [][2]string {
	return [][2]string{
		{AccessLogTagInstance, AccessLogRouteInstance}, {AccessLogTagGroup, AccessLogRouteGroup}, {AccessLogTagAPI, AccessLogRouteAPI},
		{AccessLogTagAPIName, AccessLogRouteAPIName}, {AccessLogTagEnv, AccessLogRouteEnv}, {AccessLogTagErrorCode, AccessLogRouteErrorCode},
	}
}

// AccessLogField is a field of Envoy's JSON access-log lines: its APIG
// name and the Envoy formatter that renders it.
type AccessLogField struct {
	Name, Format string
	// Default fields are written when an instance names none.
	Default bool
}

// AccessLogFields lists the access-log fields apigw can configure.
func AccessLogFields() []AccessLogField {
	authz := func(k string) string { return "%DYNAMIC_METADATA(" + ExtAuthzMetadataNamespace + ":" + k + ")%" }
	route := func(k string) string { return "%METADATA(ROUTE:" + AccessLogRouteNamespace + ":" + k + ")%" }
	return []AccessLogField{
		{"start_time", "%START_TIME%", true},
		{"request_id", "%REQ(X-REQUEST-ID)%", true},
		{"client_ip", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", true},
		{"instance", route(AccessLogRouteInstance), false},
		{"group_id", route(AccessLogRouteGroup), false},
		{"api_id", route(AccessLogRouteAPI), true},
		{"api_name", route(AccessLogRouteAPIName), false},
		{"env_id", route(AccessLogRouteEnv), false},
		{"app_id", authz(ExtAuthzMetaAppID), true},
		{"user_name", authz(ExtAuthzMetaAccountName), false},
		{"account_id", authz(ExtAuthzMetaAccountID), false},
		{"request_time", "%DURATION%", true},
		{"http_status", "%RESPONSE_CODE%", true},
		{"server_protocol", "%PROTOCOL%", false},
		{"scheme", "%REQ(:SCHEME)%", true},
		{"request_method", "%REQ(:METHOD)%", true},
		{"host", "%REQ(:AUTHORITY)%", true},
		{"uri", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", true},
		{"request_size", "%BYTES_RECEIVED%", false},
		{"response_size", "%BYTES_SENT%", false},
		{"body_bytes_sent", "%BYTES_SENT%", false},
		{"upstream_addr", "%UPSTREAM_HOST%", true},
		{"upstream_header_time", "%COMMON_DURATION(US_TX_BEG:US_RX_BEG:ms)%", false},
		{"upstream_response_time", "%COMMON_DURATION(US_TX_BEG:US_RX_END:ms)%", true},
		{"http_x_forwarded_for", "%REQ(X-FORWARDED-FOR)%", true},
		{"http_user_agent", "%REQ(USER-AGENT)%", true},
		{"error_code", authz(ExtAuthzMetaErrorCode), true},
		{"error_type", authz(ExtAuthzMetaErrorType), true},
		{"throttle_error_code", "%DYNAMIC_METADATA(" + RateLimitMetadataNamespace + ":" + RateLimitMetaErrorCode + ")%", false},
		{"route_error_code", route(AccessLogRouteErrorCode), false},
		{"response_flags", "%RESPONSE_FLAGS%", false},
		{"response_source", "%RESPONSE_CODE_DETAILS%", false},
	}
}

// AccessLogMaxCustomFields and AccessLogMaxCustomNameBytes bound the
// request values of an access-log line: 10 fields, 2 KB of names
// (docs/apig-semantics.md#access-logs).
const (
	AccessLogMaxCustomFields    = 10
	AccessLogMaxCustomNameBytes = 2048
)
