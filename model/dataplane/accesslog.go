package dataplane

// The access-log contract: what the translator puts on routes and in the
// HCM's gRPC access logger, and what the access-log service reads back from
// Envoy's StreamAccessLogs messages.

// PortAccessLog is the port of the access-log service (Envoy's gRPC
// AccessLogService).
const PortAccessLog = 18005

// AccessLogName is the log_name of the HCM's http_grpc access logger; the
// access-log service ignores streams of other loggers.
const AccessLogName = "apigw.http"

// RouteMetadataNamespace is the route metadata namespace (filter_metadata
// key) naming what an API route serves.
const RouteMetadataNamespace = "apigw"

// Keys of the route metadata under RouteMetadataNamespace.
const (
	RouteInstance = "instance"
	RouteGroup    = "group_id"
	RouteAPI      = "api_id"
	RouteAPIName  = "api_name"
	RouteEnv      = "env_id"
	// RouteErrorCode is set on routes that answer every request with an
	// APIG error themselves (an API that cannot be served safely).
	RouteErrorCode = "error_code"
)

// Custom tags of the http_grpc access logger. Each copies the route
// metadata key of the same suffix into AccessLogCommon.custom_tags, so that
// an entry names its API even when ext_authz did not run.
const (
	TagInstance  = "apigw.instance"
	TagGroup     = "apigw.group_id"
	TagAPI       = "apigw.api_id"
	TagAPIName   = "apigw.api_name"
	TagEnv       = "apigw.env_id"
	TagErrorCode = "apigw.error_code"
)

// RouteTags lists each access-log custom tag with the route metadata key it
// copies.
func RouteTags() [][2]string {
	return [][2]string{
		{TagInstance, RouteInstance}, {TagGroup, RouteGroup}, {TagAPI, RouteAPI},
		{TagAPIName, RouteAPIName}, {TagEnv, RouteEnv}, {TagErrorCode, RouteErrorCode},
	}
}

// RateLimitMetadataNamespace is where Envoy puts the rate-limit service's
// dynamic metadata (the error of an over-limit answer).
const RateLimitMetadataNamespace = "envoy.filters.http.ratelimit"

// Response headers added in debug mode (request header DebugModeHeader
// with value DebugModeValue): the gateway latency until the backend's
// response headers, and the backend's own part of it.
const (
	DebugModeHeader       = "x-apig-mode"
	DebugModeValue        = "debug"
	LatencyHeader         = "X-Apig-Latency"
	UpstreamLatencyHeader = "X-Apig-Upstream-Latency"
)

// LogField is a field of Envoy's JSON access-log lines: its APIG name and
// the Envoy formatter that renders it.
type LogField struct {
	Name, Format string
	// Default fields are written when an instance names none.
	Default bool
}

// LogFields lists the access-log fields apigw can configure.
func LogFields() []LogField {
	authz := func(k string) string { return "%DYNAMIC_METADATA(" + MetadataNamespace + ":" + k + ")%" }
	route := func(k string) string { return "%METADATA(ROUTE:" + RouteMetadataNamespace + ":" + k + ")%" }
	return []LogField{
		{"start_time", "%START_TIME%", true},
		{"request_id", "%REQ(X-REQUEST-ID)%", true},
		{"client_ip", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", true},
		{"instance", route(RouteInstance), false},
		{"group_id", route(RouteGroup), false},
		{"api_id", route(RouteAPI), true},
		{"api_name", route(RouteAPIName), false},
		{"env_id", route(RouteEnv), false},
		{"app_id", authz(MetaAppID), true},
		{"user_name", authz(MetaAccountName), false},
		{"account_id", authz(MetaAccountID), false},
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
		{"error_code", authz(MetaErrorCode), true},
		{"error_type", authz(MetaErrorType), true},
		{"throttle_error_code", "%DYNAMIC_METADATA(" + RateLimitMetadataNamespace + ":" + MetaErrorCode + ")%", false},
		{"route_error_code", route(RouteErrorCode), false},
		{"response_flags", "%RESPONSE_FLAGS%", false},
		{"response_source", "%RESPONSE_CODE_DETAILS%", false},
	}
}

// MaxCustomLogFields bounds the request values of an access-log line
// (APIG custom_log: 10 fields, 2 KB of names).
const (
	MaxCustomLogFields    = 10
	MaxCustomLogNameBytes = 2048
)
