package dataplane

// CacheScopeHeader carries, on requests of routes with a proxy_cache
// plug-in, the route's name and a hash of the plug-in's content
// ("<route>;content=<hash>"): the route's responses vary on it, so that
// Envoy's cache (keyed by host, path and query) never answers one route's
// request with another route's response, nor with a response stored under
// another content of the plug-in (docs/plugins.md#proxy_cache).
// Envoy sets it before the cache filter and removes it from the backend
// request.
const CacheScopeHeader = "x-apigw-cache-scope"
