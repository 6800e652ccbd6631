package dataplane

// CacheScopeHeader is the gRPC initial metadata key with which Envoy's
// ext_proc filter, on the routes of APIs with a proxy_cache plug-in, tells
// apigw's cache (package proxycache) the route's cache scope:
// "<route>;content=<hash of the plug-in's content>"
// (docs/plugins.md#proxy_cache). It is not an HTTP header: the request
// sent to the backend never carries it.
const CacheScopeHeader = "x-apigw-cache-scope"

// CacheStatusHeaders is the gRPC initial metadata key listing (comma
// separated, lower case) the response headers a set_resp_headers plug-in
// renders from $context.cacheStatus on a cached route: apigw's cache adds
// them, with CacheHitDetails as the value, to the answers it gives itself
// (route response headers do not reach an ext_proc immediate response).
const CacheStatusHeaders = "x-apigw-cache-status-headers"

// CacheHitDetails is the response code details of an answer from apigw's
// cache (ImmediateResponse.details), and its $context.cacheStatus.
const CacheHitDetails = "proxy_cache_hit"
