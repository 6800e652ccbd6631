package dataplane

// CacheScopeHeader carries, on requests of routes with a proxy_cache
// plug-in, the route's name: the route's responses vary on it, so that
// Envoy's cache (keyed by host, path and query) never answers one route's
// request with another route's response (docs/plugins.md#proxy_cache).
// Envoy sets it before the cache filter and removes it from the backend
// request.
const CacheScopeHeader = "x-apigw-cache-scope"
