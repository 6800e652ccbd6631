package descriptor

import "github.com/apigw/apigw/model/dataplane"

// Additions to the scheme for what the service cannot otherwise see. Both
// are answered OK and never counted.
//
//	instance=<name> api_id=<id> env_id=<id> dim=request request_id=<x-request-id> method=<:method> path=<:path>
//	instance=<name> api_id=<id> env_id=<id> dim=debug
//
// DimRequest carries the request's id, method and path so that a 429/405
// body renders $context.requestId, reqMethod, reqPath and reqUri (Envoy
// actions: request_headers x-request-id, :method, :path). Any of the three
// entries may be absent.
//
// DimDebug is present only when the request asks for debug output
// (header_value_match on DebugHeader == DebugValue, ignoring case); the
// service then returns the X-Apig-RateLimit-* headers
// (docs/apig-semantics.md#debug-headers).
const (
	DimRequest = "request"
	DimDebug   = "debug"

	KeyRequestID = "request_id"
	KeyMethod    = "method"
	KeyPath      = "path"

	DebugHeader = "x-apig-mode"
	DebugValue  = "debug"
)

// Dynamic metadata the service returns with OVER_LIMIT. Envoy stores it
// under MetadataNamespace, where local_reply_config mappers can match it:
// Envoy always answers OVER_LIMIT with the filter's rate_limited_status
// (429), so the translator maps MetaStatus (a number, e.g. 405 for
// APIG.0501 or a response set's custom status) to the final status code.
const (
	MetadataNamespace = "envoy.filters.http.ratelimit"

	// MetaErrorCode, MetaErrorMessage and MetaErrorType are the keys
	// ext_authz uses for its denials.
	MetaErrorCode    = dataplane.MetaErrorCode
	MetaErrorMessage = dataplane.MetaErrorMessage
	MetaErrorType    = dataplane.MetaErrorType
	// MetaStatus is the HTTP status the rendered gateway response asks for.
	MetaStatus = "status"
	// MetaDim is the dimension whose limit was hit (DimAPI, ..., DimAppQuota).
	MetaDim = "dim"
)

// Descriptor is one descriptor of the scheme in structured form.
type Descriptor struct {
	Instance string
	API      string
	Env      string
	Dim      string
	// Subject is the account id, app id or client IP of dimensions that
	// have one (SubjectKey(Dim)).
	Subject string
}

// Entry is one descriptor entry.
type Entry struct{ Key, Value string }

// Entries returns d's entries in the order the translator's actions
// produce them: instance, api_id, env_id, dim, then the subject if any.
func (d Descriptor) Entries() []Entry {
	out := []Entry{{KeyInstance, d.Instance}, {KeyAPI, d.API}, {KeyEnv, d.Env}, {KeyDim, d.Dim}}
	if k := SubjectKey(d.Dim); k != "" {
		out = append(out, Entry{k, d.Subject})
	}
	return out
}
