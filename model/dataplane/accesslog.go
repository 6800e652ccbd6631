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
