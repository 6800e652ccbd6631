// Package boundary tests the contract between the translator
// (xds/translate) and the request-time services (ext_authz, rate limiting)
// that share the work on one request. It holds tests only.
package boundary
