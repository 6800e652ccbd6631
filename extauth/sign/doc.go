// Package sign implements APIG's SDK-HMAC-SHA256 request signatures
// (docs/apig-semantics.md#app-signature): the canonical request shared by
// both sides, a signer for clients (Sign, Signer) and a verifier for the
// gateway (ParseAuthorization, Verify).
//
// The canonical request is
//
//	METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// where CanonicalURI is the decoded path re-encoded segment by segment with
// the unreserved set and a trailing "/" appended, CanonicalQuery is the
// decoded query sorted by name then value and re-encoded, CanonicalHeaders
// has one "name:value\n" line per signed header value, and PayloadHash is
// the hex SHA-256 of the body or the literal UNSIGNED-PAYLOAD. The string
// to sign is "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" + hex(SHA-256(canonical
// request)) and the signature is hex(HMAC-SHA256(secret, string to sign)).
//
// Everything in this package is pure: no clock, no I/O, no globals.
package sign
