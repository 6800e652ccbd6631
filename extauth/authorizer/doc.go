// Package authorizer calls APIG custom authorizers
// (docs/apig-semantics.md#custom-authorizers) over HTTP
// and caches their decisions.
//
// A request's identity sources (headers and query parameters named by the
// authorizer) are required; their values form the cache key. On a cache
// miss the client POSTs an Event as JSON to the authorizer's URI and reads
// a Decision, either directly ({"status":"allow","context":{...}}) or
// wrapped FunctionGraph-style ({"statusCode":200,"body":"<decision JSON>"}).
// Decisions (allow and deny) are cached per authorizer for its ttl; call
// failures are never cached. See docs/extauth.md for the contract.
package authorizer
