package gwresp

import (
	"slices"
	"strings"
)

// LocalReply is a failure Envoy answers itself and the APIG error it
// becomes (docs/apig-semantics.md#error-catalog). It matches by response
// flag (Envoy's short names: NR, UF, ...) or, for failures without a flag,
// by response code details (whole, or as a prefix when Prefix is set).
// The xDS translator maps each in the HCMs' local_reply_config; the
// access-log service reads the APIG error of an entry back with
// LocalReplyError. Mock bodies (direct_response) and ext_authz denials
// (UAEX, rendered by ext_authz) match none.
type LocalReply struct {
	Err     Error
	Flags   []string
	Details string
	Prefix  bool
}

// localReplies are the local replies in matching order.
var localReplies = []LocalReply{
	{Err: ErrAPINotFound, Flags: []string{"NR"}},
	{Err: ErrBackendTimeout, Flags: []string{"UT"}},
	{Err: ErrNoBackend, Flags: []string{"UH"}},
	{Err: ErrBackendUnavailable, Flags: []string{"UF", "URX", "UC", "NC", "UPE", "UO", "DF"}},
	{Err: ErrInternal, Flags: []string{"RLSE"}},
	{Err: ErrIPDenied, Details: "rbac_access_denied", Prefix: true},
	{Err: ErrEntityTooLarge, Details: "request_payload_too_large"},
	{Err: ErrHeadersTooLarge, Details: "http1.headers_too_large"},
	{Err: ErrInternal, Details: "ext_authz_error"},
}

// LocalReplies returns the local replies in matching order, in a new
// slice.
func LocalReplies() []LocalReply {
	out := make([]LocalReply, len(localReplies))
	for i, r := range localReplies {
		r.Flags = slices.Clone(r.Flags)
		out[i] = r
	}
	return out
}

// LocalReplyError is the APIG error that Envoy's local reply with these
// response flags (short names) and response code details becomes, as the
// translator maps it.
func LocalReplyError(flags []string, details string) (Error, bool) {
	for _, rc := range localReplies {
		if len(rc.Flags) > 0 {
			for _, f := range flags {
				if slices.Contains(rc.Flags, f) {
					return rc.Err, true
				}
			}
			continue
		}
		if details == rc.Details || rc.Prefix && strings.HasPrefix(details, rc.Details) {
			return rc.Err, true
		}
	}
	return Error{}, false
}
