package dataplane

// CacheScopeHeader is the gRPC initial metadata key with which Envoy's
// ext_proc filter, on the routes of APIs with a proxy_cache plug-in, tells
// apigw's cache (package proxycache) the route's cache scope:
// "<route>;content=<hash of the plug-in's content>"
// (docs/plugins.md#proxy_cache). It is not an HTTP header: the request
// sent to the backend never carries it.
const CacheScopeHeader = "x-apigw-cache-scope"
